/**
 * The result of a call to an upstream system (History Server, Airflow, dbt Cloud, …).
 * Upstream failure is data: it resolves, with the upstream's own message; only bugs throw.
 */
export type Upstream<T> =
  | { status: 'ok'; data: T }
  | { status: 'no_data'; message: string; httpStatus?: number }
  | { status: 'error'; message: string; httpStatus?: number; retryable: boolean };

export const ok = <T>(data: T): Upstream<T> => ({ status: 'ok', data });
export const noData = <T>(message: string, httpStatus?: number): Upstream<T> => ({
  status: 'no_data',
  message,
  ...(httpStatus === undefined ? {} : { httpStatus }),
});
export const upstreamError = <T>(message: string, retryable: boolean, httpStatus?: number): Upstream<T> => ({
  status: 'error',
  message,
  retryable,
  ...(httpStatus === undefined ? {} : { httpStatus }),
});
