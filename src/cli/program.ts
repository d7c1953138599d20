import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { apiFetchX509Command } from './api-fetch-command';
import { apiFetchJwtCommand } from './api-fetch-jwt-command';
import { apiValidateJwtCommand } from './api-validate-jwt-command';
import { apiWatchCommand } from './api-watch-command';
import { caRotateCommand, caStatusCommand } from './ca-rotate-command';
import { doctorCommand } from './doctor/doctor-command';
import { healthcheckCommand } from './healthcheck-command';
import { runCommand } from './run-command';
import { exitWith, EXIT_USAGE, UsageError } from './usage-error';

/** The whole command tree: `meshid <verb>`, with `api` and `ca` grouping the verbs they name. */
export function buildProgram(): CommandUnknownOpts {
  const program = new Command('meshid')
    .description('meshid — per-node SPIFFE workload identity agent')
    .helpCommand(true)
    .addHelpText('after', '\nRun "meshid <command> --help" for the options of each command.')
    // Bare `meshid` shows the overview but is still a usage error, as scripts saw it before.
    .action((_options, command) => {
      if (command.args.length > 0) throw new UsageError(`unknown command "${command.args.join(' ')}"`);
      command.outputHelp();
      exitWith(EXIT_USAGE);
    });
  program
    .addCommand(runCommand())
    .addCommand(
      group('api', 'talk to a running agent over the Workload API: fetch x509, fetch jwt, validate jwt, watch', [
        group('fetch', "fetch this process's SVIDs", [apiFetchX509Command(), apiFetchJwtCommand()]),
        group('validate', 'have the agent validate an SVID', [apiValidateJwtCommand()]),
        apiWatchCommand(),
      ]),
    )
    .addCommand(doctorCommand())
    .addCommand(healthcheckCommand())
    .addCommand(group('ca', "the upstream CA's root rotation, through the agent's admin HTTP", [caRotateCommand(), caStatusCommand()]));
  applyConventions(program);
  return program;
}

/**
 * A command that only groups others. Its action runs when no subcommand matched, and names
 * everything typed, as "unknown command" always has ("api fetch pem").
 */
function group(name: string, summary: string, children: readonly CommandUnknownOpts[]): CommandUnknownOpts {
  const command = new Command(name).summary(summary).description(summary).action((_options, self) => {
    throw new UsageError(`unknown command "${[...ancestorNames(self), ...self.args].join(' ')}"`);
  });
  for (const child of children) command.addCommand(child);
  return command;
}

/** "api", "fetch": the words that led to `command`, without the program's own name. */
function ancestorNames(command: CommandUnknownOpts): string[] {
  const names: string[] = [];
  for (let current: CommandUnknownOpts | null = command; current?.parent; current = current.parent) names.unshift(current.name());
  return names;
}

/**
 * What every command shares, applied once over the tree (addCommand does not inherit settings):
 * errors raise instead of exiting, so main maps them to exit 2; commander's messages get the
 * "meshid: " prefix and the capitalised wording of the hand-rolled parser they replaced.
 */
function applyConventions(command: CommandUnknownOpts): void {
  const isGroup = command.commands.length > 0;
  command
    .exitOverride()
    .showSuggestionAfterError(false)
    .showHelpAfterError(`Run "${['meshid', ...ancestorNames(command)].join(' ')} --help" for usage.`)
    .configureOutput({
      // Through console, like every verb's output: it ignores EPIPE (`meshid --help | head`).
      writeOut: (text) => console.log(text.replace(/\n$/, '')),
      writeErr: (text) => console.error(text.replace(/\n$/, '')),
      outputError: (message, write) => write(`meshid: ${capitalise(message.replace(/^error: /, ''))}`),
    })
    // Groups see every word after them, to name an unknown command in full; a verb takes no
    // operands, and says so itself (see checkNoOperands).
    .allowUnknownOption(isGroup)
    .allowExcessArguments(true);
  if (!isGroup) command.hook('preAction', checkNoOperands);
  for (const child of command.commands) applyConventions(child);
}

function checkNoOperands(command: CommandUnknownOpts): void {
  const [first] = command.args;
  if (first !== undefined) throw new UsageError(`Unexpected argument '${first}'. This command does not take positional arguments`);
}

const capitalise = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
