// `k8ts image import FILE.tar...`: loads image archives (OCI layout or `docker save` tars) into the
// node's containerd, in the k8s.io namespace the CRI plugin uses, pinned so that image garbage
// collection never removes them (nothing could pull them back on an air-gapped node).
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { runtimePaths } from '../agent/containerd/paths.js';
import { importImage } from '../agent/images/import.js';
import { dataDirFlag, optionalStringFlag, parseFlags, UsageError, type FlagSpec } from './flags.js';
import type { Command } from './main.js';

const FLAGS: FlagSpec = {
  'data-dir': { type: 'string' },
  'container-runtime-endpoint': { type: 'string' },
};

const USAGE = [
  'k8ts image import FILE.tar [FILE.tar...] [--data-dir DIR | --container-runtime-endpoint SOCK]',
  '',
  "Imports image archives (OCI or docker save) into the node's containerd (namespace k8s.io), pinned",
  'so that image garbage collection keeps them; pods then use them with imagePullPolicy Never or',
  'IfNotPresent. The agent also imports every *.tar in <data-dir>/agent/images/ when it starts.',
  '',
  'Flags:',
  "  --data-dir DIR                      the node's data dir, whose containerd to use (default ~/.k8ts)",
  '  --container-runtime-endpoint SOCK   a containerd socket instead (as given to the agent)',
].join('\n');

/** The snapshotter the agent configured containerd's CRI plugin with (images must be unpacked there). */
export function configuredSnapshotter(configToml: string): string | undefined {
  return /^\s*snapshotter\s*=\s*"([a-z0-9_-]+)"/m.exec(configToml)?.[1];
}

/** Resolves when something accepts connections on the unix socket; rejects with why not. */
function probeSocket(socket: string): Promise<void> {
  return new Promise((resolveProbe, reject) => {
    const conn = connect(socket);
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error('no answer within 5s'));
    }, 5000);
    conn.once('connect', () => {
      clearTimeout(timer);
      conn.end();
      resolveProbe();
    });
    conn.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function importCommand(argv: string[]): Promise<number> {
  const flags = parseFlags('image import', argv, FLAGS, true);
  const files = flags.positionals;
  if (files.length === 0) throw new UsageError('image import: give at least one image archive (FILE.tar)');
  const endpointFlag = optionalStringFlag(flags, 'container-runtime-endpoint');
  if (endpointFlag !== undefined && optionalStringFlag(flags, 'data-dir') !== undefined)
    throw new UsageError('image import: --data-dir and --container-runtime-endpoint exclude each other');
  for (const f of files) if (!existsSync(f)) throw new Error(`image archive ${f}: no such file or directory`);

  let socket: string;
  let snapshotter: string | undefined;
  if (endpointFlag !== undefined) {
    socket = endpointFlag.replace(/^unix:\/\//, '');
  } else {
    const paths = runtimePaths(dataDirFlag(flags));
    socket = paths.socket;
    if (existsSync(paths.configFile))
      snapshotter = configuredSnapshotter(readFileSync(paths.configFile, 'utf8'));
  }
  try {
    await probeSocket(socket);
  } catch (err) {
    throw new Error(
      `containerd is not running at ${socket} (${(err as Error).message}): start the node ` +
        '(k8ts server or k8ts agent with this --data-dir) or pass --container-runtime-endpoint',
      { cause: err },
    );
  }
  for (const file of files) {
    const names = await importImage(socket, file, snapshotter ? { snapshotter } : {});
    if (names.length === 0) throw new Error(`image archive ${file}: containerd imported no named image`);
    for (const name of names) process.stdout.write(`${name}\n`);
  }
  return 0;
}

export const imageCommand: Command = {
  name: 'image',
  summary: "Import image archives into the node's containerd (air-gapped images, kept by image GC)",
  usage: USAGE,
  run: (argv) => {
    const [sub, ...rest] = argv;
    if (sub !== 'import')
      throw new UsageError(
        sub === undefined
          ? 'image: missing subcommand (import)'
          : `image: unknown subcommand ${JSON.stringify(sub)} (import)`,
      );
    return importCommand(rest);
  },
};
