/** Opens the catalog a convert run registers into (local by default; Glue loaded only when asked for). */
import type { AwsOptions } from '../aws/config.js';
import type { Catalog } from '../catalog/Catalog.js';
import { LocalCatalog } from '../catalog/local.js';
import { NoCatalog } from '../catalog/none.js';
import type { CatalogKind } from '../config.js';
import { DEFAULT_DATABASE, DEFAULT_TABLE } from '../schema/table.js';
import type { Storage } from '../storage/Storage.js';

export async function openCatalog(
  kind: CatalogKind,
  dest: Storage,
  options: { database?: string; table?: string; projection?: boolean; aws: AwsOptions },
): Promise<Catalog> {
  if (kind === 'none') return new NoCatalog();
  if (kind === 'local') return new LocalCatalog(dest);
  const { GlueCatalog } = await import('../catalog/glue.js');
  return new GlueCatalog({
    database: options.database ?? DEFAULT_DATABASE,
    table: options.table ?? DEFAULT_TABLE,
    aws: options.aws,
    ...(options.projection ? { projection: true } : {}),
  });
}
