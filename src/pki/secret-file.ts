// Key material and tokens on disk: written whole or not at all, readable by the owner only.
import { randomBytes } from 'node:crypto';
import { chmod, rename, writeFile } from 'node:fs/promises';

/** Writes a file with mode 0600 atomically (temp file, then rename). */
export async function writeSecretFile(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, content, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
