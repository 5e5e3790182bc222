import { ConfigError, loadConfig } from './config.ts';
import type { CommandOutcome } from './commands/command.ts';
import { parseCommandLine, UsageError, USAGE } from './commands/parse-command-line.ts';

async function main(argv: string[]): Promise<number> {
  const [command = 'serve'] = argv;
  if (command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig(process.env);
  if (command === 'serve') {
    const { serve } = await import('./serve.ts');
    await serve(config);
    return -1; // keeps running
  }
  // Arguments and passwords are read here, whichever process then runs the command.
  const parsed = await parseCommandLine(argv, readStdin);
  const { executeCommand } = await import('./commands/execute-command.ts');
  return print(await executeCommand(config, parsed));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function print(outcome: CommandOutcome): number {
  for (const line of outcome.stdout) process.stdout.write(`${line}\n`);
  for (const line of outcome.stderr) process.stderr.write(`${line}\n`);
  return outcome.exitCode;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`portcullis: ${error.message}\n`);
      if (error instanceof UsageError) process.stderr.write(`\n${USAGE}\n`);
      process.exit(2);
    }
    if (
      error instanceof TypeError &&
      'code' in error &&
      String(error.code).startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`portcullis: ${error.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`portcullis: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
