/**
 * Literal error signatures of Spark failures. Rules only ever act on these (plus metrics): a log line
 * counts for what it literally says, never for what it asks.
 */
export type Sig =
  | 'heap_oom'
  | 'jvm_oom_exit'
  | 'container_mem_kill'
  | 'oom_killed'
  | 'exit_137'
  | 'fetch_failed'
  | 'connect_failed'
  | 'node_lost'
  | 'unrelated_exit'
  | 'rpc_disassociated'
  | 'max_result_size'
  | 'driver_broadcast'
  | 'analysis'
  | 'unresolved_column'
  | 'schema_incompatible'
  | 'path_missing'
  | 'table_missing'
  | 'dependency'
  | 'app_failed';

const SIGS: Array<[Sig, RegExp]> = [
  [
    'heap_oom',
    /OutOfMemoryError|Java heap space|GC overhead limit exceeded|Unable to acquire \d+ bytes of memory/,
  ],
  ['jvm_oom_exit', /\b(?:code|status):?\s*52\b|\(JVM OOM\)/i],
  [
    'container_mem_kill',
    /killed by YARN for exceeding|exceeding (?:physical |virtual )?memory limits|running beyond (?:physical|virtual) memory limits|Consider boosting spark\.(?:yarn\.)?executor\.memoryOverhead/i,
  ],
  ['oom_killed', /\bOOMKilled\b|\boom[-_ ]?kill(?:ed|er)?\b|Out of memory: Killed process/i],
  ['exit_137', /\b(?:code|status):?\s*137\b/i],
  ['fetch_failed', /FetchFailed|MetadataFetchFailedException|Missing an output location for shuffle/],
  ['connect_failed', /Failed to connect to \S+|Connection refused|Connection reset by peer/],
  [
    'node_lost',
    /\blost node\b|released on a \*?lost\*? node|Exit status: -100\b|decommission|preempt|spot (?:instance )?(?:interruption|termination)|(?:Worker|Slave|Node) (?:lost|removed|terminated)/i,
  ],
  ['unrelated_exit', /exited unrelated to the running tasks/],
  ['rpc_disassociated', /Remote RPC client disassociated/],
  ['max_result_size', /maxResultSize/],
  [
    'driver_broadcast',
    /Not enough memory to build and broadcast|Cannot broadcast the table that is larger than/,
  ],
  ['analysis', /AnalysisException/],
  [
    'unresolved_column',
    /UNRESOLVED_COLUMN|FIELD_NOT_FOUND|MISSING_COLUMN|cannot resolve '|Column '[^']+' does not exist|No such struct field/i,
  ],
  [
    'schema_incompatible',
    /Parquet column cannot be converted|SchemaColumnConvertNotSupported|Failed to merge (?:incompatible )?(?:data types|fields)|CANNOT_MERGE_INCOMPATIBLE|INCOMPATIBLE_DATA_FOR_TABLE|CANNOT_UP_CAST|Cannot up cast|PARQUET_COLUMN_DATA_TYPE_MISMATCH|DATATYPE_MISMATCH/i,
  ],
  ['path_missing', /PATH_NOT_FOUND|Path does not exist|FileNotFoundException|Input path does not exist/],
  [
    'table_missing',
    /TABLE_OR_VIEW_NOT_FOUND|Table or view not found|NoSuchTableException|SCHEMA_NOT_FOUND|NoSuchDatabaseException|Database '[^']+' not found/i,
  ],
  [
    'dependency',
    /ModuleNotFoundError|No module named|ImportError|ClassNotFoundException|NoClassDefFoundError|NoSuchMethodError|NoSuchFieldError|AbstractMethodError|IncompatibleClassChangeError|UnsatisfiedLinkError|UnsupportedClassVersionError|DATA_SOURCE_NOT_FOUND|Failed to find data source/,
  ],
  [
    'app_failed',
    /Final app status: FAILED|User application exited with status [1-9]|Exception in thread "main"|exitCode: [1-9]\d*\b|Application \S+ failed \d+ times/,
  ],
];

/** Signatures literally present in a text (an error message, a removal reason, a log line). */
export function signaturesOf(text: string | undefined): Set<Sig> {
  const out = new Set<Sig>();
  if (!text) return out;
  for (const [sig, re] of SIGS) if (re.test(text)) out.add(sig);
  return out;
}

/** The first line of `text` carrying `sig`, for quoting. */
export function lineWith(text: string, sig: Sig): string | undefined {
  const re = SIGS.find(([s]) => s === sig)?.[1];
  return re ? text.split('\n').find((l) => re.test(l)) : undefined;
}

/** Signatures that say the executor died of memory (heap or container). */
export const MEMORY_SIGS: ReadonlySet<Sig> = new Set([
  'heap_oom',
  'jvm_oom_exit',
  'container_mem_kill',
  'oom_killed',
  'exit_137',
]);
export const HEAP_SIGS: ReadonlySet<Sig> = new Set(['heap_oom', 'jvm_oom_exit']);
export const KILL_SIGS: ReadonlySet<Sig> = new Set(['container_mem_kill', 'oom_killed']);
/** Signatures of a job-level failure class that rules name directly (not metric hints). */
export const CLASS_SIGS: ReadonlySet<Sig> = new Set([
  ...MEMORY_SIGS,
  'fetch_failed',
  'max_result_size',
  'driver_broadcast',
  'unresolved_column',
  'schema_incompatible',
  'path_missing',
  'table_missing',
  'dependency',
]);
