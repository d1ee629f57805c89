/**
 * `stratum` command line (issue #5 §7). Commands:
 *
 *   stratum tosca validate <file|csar> [--format text|json] [--input name=value]...
 *   stratum tosca translate <file|csar> --tenant-view <json> [--stack <name>] [--out <dir>]
 *                           [--format yaml|json] [--input name=value]...
 *
 * Exit status: 0 valid / translated (warnings allowed), 1 the template has errors, 2 usage error.
 * Diagnostics go to stderr as `file:line:column: error CODE: message (path)`.
 */
import { type CliIo, EXIT, USAGE } from './cli';
import { toscaCommand } from './tosca';

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
};

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  if (command === 'tosca') return toscaCommand(rest, io);
  io.stderr(
    `${command === undefined ? 'stratum: a command is required' : `stratum: unknown command '${command}'`}\n\n${USAGE}`,
  );
  return EXIT.usage;
}
