/** The one ordering of keys and names: by UTF-16 code units, as S3 lists keys and as the lake's files are named. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
