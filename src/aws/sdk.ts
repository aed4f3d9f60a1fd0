/**
 * The AWS SDK's packages ship CommonJS bundles. Imported from an ES module, Node first scans each bundle
 * for its export names (cjs-module-lexer), then runs it; require() only runs it. Measured on 2 cores:
 * @aws-sdk/client-s3 and @aws-sdk/lib-storage load in 135 ms and 0.28 CPU s by require, against 220 ms
 * and 0.45 CPU s by import: every run against S3 pays that once. So the storage and catalog modules load
 * the SDK through this require and take its types from the packages as usual.
 */
import { createRequire } from 'node:module';

export const requireSdk = createRequire(import.meta.url);
