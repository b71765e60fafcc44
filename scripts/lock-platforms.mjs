#!/usr/bin/env node
// Adds lock-file entries for platform-specific optional packages that the registry mirror on our build
// machines does not serve (darwin/win32/android/musl builds of biome and msgpackr-extract). Without them
// `npm ci` refuses the lock as out of sync. The entries carry os/cpu/libc so npm skips them on Linux x64
// without fetching. Run after `npm install` whenever dependencies change: `node scripts/lock-platforms.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const pkgs = lock.packages;

function platformOf(name) {
  const tail = name.split('/').pop();
  const os = ['android', 'darwin', 'linux', 'win32', 'freebsd'].find((o) => tail.includes(`-${o}-`));
  const cpu = ['arm64', 'x64', 'arm', 'ia32'].find((c) => tail.includes(`-${c}`));
  if (!os || !cpu) return null;
  return { os: [os], cpu: [cpu], ...(tail.endsWith('-musl') ? { libc: ['musl'] } : {}) };
}

let added = 0;
for (const [path, entry] of Object.entries(pkgs)) {
  for (const [dep, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (pkgs[key]) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    pkgs[key] = {
      version: range.replace(/^[\^~=]/, ''),
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...platform,
    };
    added++;
    console.log(`added ${key}@${pkgs[key].version} (${platform.os}/${platform.cpu}) for ${path || 'root'}`);
  }
}
lock.packages = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`${added} entries added`);
