/**
 * Log lines worth keeping while streaming executor/driver logs. Everything else is dropped on the
 * fly (bounded memory). Rules read the kept lines; add a pattern here when a rule needs a new signal.
 */
export const LOG_PATTERNS: RegExp[] = [
  /\bERROR\b/,
  /\bWARN\b.*(?:Lost|lost|killed|Killed|exceed|memory|Memory|Fetch|fetch|Removing executor|removed)/,
  /Exception|Error:|Traceback \(most recent call last\)/,
  /OutOfMemoryError|GC overhead limit|Java heap space/,
  /Container killed|exceeding (?:physical|virtual) memory|memoryOverhead|OOMKilled|exit code 137|exit code 52/,
  /FetchFailed|Failed to connect|ExecutorLostFailure|Lost executor|lost node/,
  /maxResultSize|Total size of serialized results/,
  /AnalysisException|UNRESOLVED_COLUMN|cannot resolve|Path does not exist|FileNotFoundException|Table or view not found/,
  /ModuleNotFoundError|ClassNotFoundException|NoSuchMethodError|NoClassDefFoundError|ImportError/,
  /non-empty blocks/,
  /Spilling|spill/i,
  // Logical plan lines after an AnalysisException name the input relation (the schema_mismatch culprit).
  /^\s*[+:|-]*\s*'?(?:SubqueryAlias|Relation|UnresolvedRelation)\b/,
  /Final app status|User application exited|exited with (?:exit )?code|exit code:|termination reason|OOMKilled/,
  /TABLE_OR_VIEW_NOT_FOUND|PATH_NOT_FOUND|No module named|Parquet column cannot be converted|Failed to merge/,
];

/** Lines of context kept before and after each matching line. */
export const LOG_CONTEXT_LINES = 3;
