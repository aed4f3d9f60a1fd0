/**
 * `--catalog none`: the Parquet files are the product and nothing is registered (e.g. DuckDB reads
 * the directories directly). Every call succeeds and reports zero changes.
 */
import type {
  Catalog,
  EnsureTableResult,
  PartitionContribution,
  PartitionEntry,
  PartitionValues,
  RegisterResult,
  TableDefinition,
} from './Catalog.js';

export class NoCatalog implements Catalog {
  readonly kind = 'none' as const;

  async ensureTable(_table: TableDefinition): Promise<EnsureTableResult> {
    return { created: false, columnsAdded: [] };
  }

  async registerPartitions(_keyDate: string, _partitions: readonly PartitionContribution[]): Promise<RegisterResult> {
    return { created: 0, updated: 0, unchanged: 0 };
  }

  async deletePartitions(_partitions: readonly PartitionValues[]): Promise<number> {
    return 0;
  }

  async listPartitions(): Promise<PartitionEntry[]> {
    return [];
  }
}
