export * from './config.ts';
export * from './errors.ts';
export * from './incident.ts';
export * from './redact.ts';
export * from './report.ts';
export * from './target.ts';
export * from './taxonomy.ts';
export * from './upstream.ts';
