/** The dbt failure class an error message shows, with the name it is about (column, macro, ref). */
export interface Classified {
  kind: 'compilation' | 'missing_column' | 'type_mismatch' | 'permission' | 'relation_missing' | 'other';
  subject?: string;
  signature: string;
}

const RULES: Array<{ kind: Classified['kind']; re: RegExp }> = [
  {
    kind: 'permission',
    re: /permission denied[^\n]*|insufficient privileges[^\n]*|Access Denied:[^\n]*|does not have [\w. ]*(?:permission|privilege)s?[^\n]*|not authorized to[^\n]*/i,
  },
  { kind: 'missing_column', re: /column "?([\w.$]+)"? (?:of relation "?[\w.]+"? )?does not exist/i },
  { kind: 'missing_column', re: /Unrecognized name: `?([\w$]+)`?/ },
  { kind: 'missing_column', re: /Name `?([\w$]+)`? not found inside/ },
  { kind: 'missing_column', re: /invalid identifier '([^']+)'/i },
  { kind: 'missing_column', re: /UNRESOLVED_COLUMN[^`]*`([^`]+)`/ },
  { kind: 'missing_column', re: /cannot resolve '?`?([\w.]+)`?'? given input columns/i },
  { kind: 'missing_column', re: /Referenced column "([^"]+)" not found/ },
  { kind: 'missing_column', re: /no such column:? "?([\w.]+)"?/i },
  { kind: 'type_mismatch', re: /invalid input syntax for(?: type)? [\w ]+[^\n]*/i },
  { kind: 'type_mismatch', re: /operator does not exist:[^\n]*/i },
  { kind: 'type_mismatch', re: /cannot (?:be )?cast[^\n]*/i },
  { kind: 'type_mismatch', re: /No matching signature for[^\n]*/i },
  { kind: 'type_mismatch', re: /(?:Numeric|Timestamp|Date) value '[^']*' is not recognized[^\n]*/i },
  {
    kind: 'type_mismatch',
    re: /(?:Could not|Failed to) cast[^\n]*|Invalid cast[^\n]*|CAST_INVALID_INPUT[^\n]*|Conversion Error[^\n]*/i,
  },
  {
    kind: 'type_mismatch',
    re: /types? [\w ]+ and [\w ]+ cannot be matched|datatype mismatch[^\n]*|Bad (?:int64|double|numeric|bool) value[^\n]*/i,
  },
  { kind: 'type_mismatch', re: /column "[^"]+" is of type \w[\w ]* but expression is of type[^\n]*/i },
  { kind: 'compilation', re: /'([\w.]+)' is undefined/ },
  {
    kind: 'compilation',
    re: /depends on a (?:node|source) named '([^']+)'[^\n]*which (?:was not found|is disabled)/i,
  },
  { kind: 'compilation', re: /(?:Compilation|Parsing) Error[^\n]*/i },
  {
    kind: 'relation_missing',
    re: /relation "([^"]+)" does not exist|Object '([^']+)' does not exist|Table not found: ([\w.`-]+)|Not found: Table ([\w.:`-]+)/i,
  },
];

/** Classifies a dbt node error message; the first matching rule wins (order matters). */
export function classifyMessage(message: string | undefined): Classified {
  const text = message ?? '';
  for (const { kind, re } of RULES) {
    const m = text.match(re);
    if (m) {
      const subject = m.slice(1).find((g) => g);
      return { kind, signature: m[0].slice(0, 300), ...(subject ? { subject } : {}) };
    }
  }
  return { kind: 'other', signature: text.split('\n')[0]?.slice(0, 300) ?? '' };
}
