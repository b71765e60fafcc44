/**
 * Airflow task-log line patterns: which lines the streaming filter keeps, and the signatures the rules
 * classify. Signatures describe failure classes, never particular DAGs, tasks or vendors.
 */
export const LOG_PATTERNS: RegExp[] = [
  /\b(?:ERROR|CRITICAL|FATAL)\b|\blevel=(?:error|critical)\b/,
  /\bWARN(?:ING)?\b/,
  /Traceback \(most recent call last\)|Exception|Error\b|Timeout|timed out/,
  /SIGKILL|SIGTERM|SIGSEGV|return code|exit code|Killed|OOM|[Oo]ut of memory|MemoryError/,
  /zombie|heartbeat|killed externally|Terminating|externally set|shouldn't be running anymore/i,
  /Poking|poke|[Ss]ensor|Rescheduling/,
  /conn_id|[Cc]onnection (?:ID|Retrieved|'|")|Retrieving connection|Variable\b/,
  /\bcolumns?\b|\bfields?\b|schema/i,
  /Starting attempt|Marking task as|Executing <Task/,
  /application_\d+_\d+|app-\d{14}-\d{4,}|spark-[0-9a-f]{32}|[Tt]racking URL|spark-submit|SparkSubmit/,
  /run_results\.json|\/target\b|\bdbt\b|getdbt\.com/,
  /Could not read served logs|Broken DAG|DagBag|import/i,
];

/** Lines of context kept before and after each matching line. */
export const LOG_CONTEXT_LINES = 2;

/** The Airflow failure classes a log line can signal. */
export type Sig =
  | 'sensor_timeout'
  | 'task_timeout'
  | 'oom'
  | 'zombie'
  | 'sigterm'
  | 'import_error'
  | 'missing_connection'
  | 'auth'
  | 'schema'
  | 'connection';

/** Signature regexes per class; a line can match several (precedence decides, see rules). */
export const SIGNATURES: Array<[Sig, RegExp]> = [
  ['sensor_timeout', /AirflowSensorTimeout|Sensor has timed out|[Ss]ensor .*timed out/],
  [
    'task_timeout',
    /AirflowTaskTimeout|Process timed out(?:, PID| pid=\d)|execution_timeout (?:of|exceeded)|Task exceeded/,
  ],
  [
    'oom',
    /Negsignal\.SIGKILL|return code -9(?!\d)|exit[ _]code[ =](?:-9|137)(?!\d)|\bsignal=-9(?!\d)|Likely out of memory|\bSIGKILL\b|OOMKilled|^\s*Killed\s*$|Out of memory: Kill|oom[-_ ]kill|MemoryError|Cannot allocate memory/i,
  ],
  [
    'zombie',
    /[Dd]etected zombie|zombie (?:job|task)|heartbeat (?:lost|timeout|expired)|no heartbeat|[Hh]eartbeat time limit exceeded|Too many failed heartbeats|killed externally/,
  ],
  ['sigterm', /Received SIGTERM|SIGTERM|Terminating subprocesses/],
  [
    'import_error',
    /Broken DAG|DagNotFound|[Dd]ag .*(?:could not be found|not found in (?:serialized_dag|DagBag))|Failed to (?:import|parse) (?:DAG|dag file)/,
  ],
  [
    'missing_connection',
    /conn(?:ection)?_id [`'"]?[\w.-]+[`'"]? isn't defined|The conn_id .* isn't defined|Variable [`'"]?[\w.-]+[`'"]? does not exist|AirflowNotFoundException|\b(?:CONNECTION|VARIABLE)_NOT_FOUND\b/,
  ],
  [
    'auth',
    /\b(?:401|403)\b.*(?:Unauthori[sz]ed|Forbidden|Client Error)|(?:Unauthori[sz]ed|Forbidden)\b.*\b(?:401|403)\b|invalid_grant|invalid_client|[Aa]uthentication (?:failed|failure|error)|EXPIRED_AUTHENTICATION|ExpiredToken|[Tt]oken (?:has )?expired|expired token|InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|[Ii]nvalid (?:credentials|api key|token)|password authentication failed|Login failed/,
  ],
  [
    'schema',
    /KeyError: ['"]|Unexpected (?:field|column|key)|unexpected keyword argument|JSONDecodeError|Expecting value: line \d+ column|UndefinedColumn|column "?[\w.]+"? (?:of relation .* )?does not exist|no such column|[Mm]issing (?:column|field|required field)|ValidationError|field required|schema mismatch|SchemaError/,
  ],
  [
    'connection',
    /ConnectionError|ConnectionResetError|Connection reset|ConnectTimeout|ConnectTimeoutError|ReadTimeout|Connection refused|ECONNRESET|ECONNREFUSED|Max retries exceeded|RemoteDisconnected|Temporary failure in name resolution|Name or service not known|\b50[234]\b.*(?:Server Error|Service Unavailable|Bad Gateway|Gateway Time-?out)|(?:Service Unavailable|Bad Gateway|Gateway Time-?out)|SSLError|BrokenPipe|timed out while connecting|server closed the connection unexpectedly/,
  ],
];

/**
 * The running try was terminated because its state was changed from outside the task: Airflow 2
 * (jobs/local_task_job_runner.py heartbeat_callback) "State of this instance has been externally set to
 * %s. Terminating instance." and "DagRun timed out after %s."; Airflow 3 (task-sdk supervisor.py, a 404/409
 * on the heartbeat) "Server indicated the task shouldn't be running anymore. Terminating process". The
 * SIGTERM (and SIGKILL escalation) that follow are its consequences, not a zombie or OOM.
 */
export const EXTERNAL_STATE =
  /State of this instance has been externally set to \w+|Server indicated the task shouldn't be running anymore|DagRun timed out after/;

/** Classes that are consequences of an external state change when they follow it in the same try. */
export const STATE_CHANGE_CONSEQUENCES: ReadonlySet<Sig> = new Set(['sigterm', 'zombie', 'oom']);

/** Spark application ids as they appear in submit logs (kept in step with core/target.ts). */
export const SPARK_APP_ID = /\b(application_\d{10,}_\d{4,}|app-\d{14}-\d{4,}|spark-[0-9a-f]{32})\b/;
/** A dbt `target/` directory named in a log (the path up to and including `target`). */
export const DBT_TARGET_PATH = /((?:\/[\w.@-]+)+\/target)\/(?:run_results|manifest)\.json/;
/** A dbt Cloud run id in operator logs, e.g. "Job run 70403103" / "run_id=70403103". */
export const DBT_CLOUD_RUN = /dbt Cloud .*?\brun(?:_id)?[ =:#]+(\d{4,})|\bJob run (\d{4,})\b/i;
/** http(s) URLs in a line. */
export const URL_IN_TEXT = /https?:\/\/[^\s'"<>)\]]+/g;
