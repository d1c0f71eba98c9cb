/**
 * The `koblingspunkt` program: picks the sub-command and turns every failure into one line on
 * standard error and an exit code (errors.ts). Exported for tests, which run it in process with
 * their own streams; main.ts runs it for the real process.
 */
import type { Command } from './command.js';
import { CliError, EXIT, messageOf, UsageError } from './errors.js';
import { say, type CliIo } from './io.js';

interface CommandEntry {
  readonly name: string;
  /** One line for the overview. */
  readonly summary: string;
  /**
   * The command's module, loaded when it runs: `start` pulls in the whole node (express, the
   * MongoDB driver, …), which a `query` should not wait for.
   */
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'start', summary: 'run the node (what npm start runs)', load: async () => (await import('./commands/start.js')).start },
  {
    name: 'check-config',
    summary: 'validate a configuration file and print the effective configuration (secrets masked)',
    load: async () => (await import('./commands/check-config.js')).checkConfig,
  },
  { name: 'register', summary: 'register files for a patient (ITI-41), printing their uniqueIds', load: async () => (await import('./commands/register.js')).register },
  { name: 'query', summary: "list a patient's documents (ITI-18 FindDocuments)", load: async () => (await import('./commands/query.js')).query },
  { name: 'retrieve', summary: 'fetch documents by uniqueId (ITI-43), checking hash and size', load: async () => (await import('./commands/retrieve.js')).retrieve },
  {
    name: 'import',
    summary: 'register every file of a folder, patients from a CSV map (resumable)',
    load: async () => (await import('./commands/import.js')).importCommand,
  },
  { name: 'backup', summary: 'copy the embedded store (SQLite files and documents) while the node runs', load: async () => (await import('./commands/backup.js')).backup },
  {
    name: 'write-forms',
    summary: 'give entries registered before schema v7 their stored LeafClass forms (faster cold queries)',
    load: async () => (await import('./commands/write-forms.js')).writeForms,
  },
];

const OVERVIEW = `usage: koblingspunkt <command> [options]   (koblingspunkt <command> --help for its options)

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(14)}${c.summary}`).join('\n')}

A new node, and a PDF registered, found and fetched back:
  npm start
  npx koblingspunkt register scan.pdf --patient 13116900216
  npx koblingspunkt query --patient 13116900216
  npx koblingspunkt retrieve <uniqueId> -o .

exit codes: 0 done; 1 the node answered with an error (RegistryError, SOAP fault, hash mismatch,
failed imports); 2 bad arguments or configuration; 3 the node could not be reached`;

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    say(io, OVERVIEW);
    return EXIT.usage;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(`${OVERVIEW}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry === undefined) {
    say(io, `koblingspunkt: unknown command '${name}'`);
    say(io, OVERVIEW);
    return EXIT.usage;
  }
  const command = await entry.load();
  try {
    return await command.run(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      say(io, `koblingspunkt ${name}: ${e.message}`);
      say(io, `${command.synopsis}\n(koblingspunkt ${name} --help for every option)`);
      return e.exitCode;
    }
    if (e instanceof CliError) {
      say(io, `koblingspunkt ${name}: ${e.message}`);
      return e.exitCode;
    }
    // A bug or an environment problem nobody foresaw: still one line, never a stack trace.
    say(io, `koblingspunkt ${name}: ${messageOf(e)}`);
    return EXIT.failed;
  }
}
