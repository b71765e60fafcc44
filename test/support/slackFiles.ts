/**
 * The bytes of a file POSTed to a Slack upload URL: the first file part of a multipart/form-data body (what
 * `curl -F filename=@file` and WebClient's filesUploadV2 send), or the raw body otherwise.
 */
export function parseUpload(raw: Buffer, contentType: string | undefined): Buffer | undefined {
  const boundary = contentType?.match(/multipart\/form-data;.*boundary="?([^";]+)"?/i)?.[1];
  if (!boundary) return raw;
  const text = raw.toString('latin1');
  const parts = text.split(`--${boundary}`).slice(1, -1);
  for (const part of parts) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = part.slice(0, split);
    if (!/filename=/i.test(head)) continue;
    const body = part.slice(split + 4).replace(/\r\n$/, '');
    return Buffer.from(body, 'latin1');
  }
  return undefined;
}
