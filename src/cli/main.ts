// The k8ts command: one binary, subcommands like k3s (server, agent, ...).
import { createLogger } from '../util/log.js';
import { K8TS_VERSION, KUBERNETES_GIT_VERSION } from '../version.js';
import { UsageError } from './flags.js';

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(argv: string[]): Promise<number>;
}

const versionCommand: Command = {
  name: 'version',
  summary: 'Print the k8ts version and the Kubernetes API version it serves',
  usage: 'k8ts version',
  run: () => {
    process.stdout.write(`k8ts version v${K8TS_VERSION} (Kubernetes ${KUBERNETES_GIT_VERSION})\n`);
    return Promise.resolve(0);
  },
};

async function loadCommands(): Promise<Command[]> {
  const { serverCommand } = await import('./server.js');
  const { agentCommand } = await import('./agent.js');
  const { tokenCommand } = await import('./token.js');
  const { imageCommand } = await import('./image.js');
  const { schedulerCommand } = await import('./scheduler.js');
  return [serverCommand, agentCommand, schedulerCommand, tokenCommand, imageCommand, versionCommand];
}

function helpText(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'k8ts: a Kubernetes-compatible container orchestrator',
    '',
    'Usage: k8ts COMMAND [flags]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "k8ts COMMAND --help" for the flags of a command.',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const commands = await loadCommands();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(helpText(commands));
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') return versionCommand.run([]);
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`k8ts: unknown command "${name}"\n\n${helpText(commands)}`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.summary}\n\nUsage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`k8ts ${err.message}\nRun "k8ts ${command.name} --help" for usage.\n`);
      return 2;
    }
    // One clear line for a person; the structured log keeps the stack for whoever debugs it.
    createLogger('cli').debug('command failed', { stack: err instanceof Error ? err.stack : String(err) });
    process.stderr.write(`k8ts ${command.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// Long-running commands resolve only when asked to stop; anything else exits with its code.
process.exitCode = code;
