#!/usr/bin/env node
import { runCommand } from './run-command';
import { apiFetchCommand } from './api-fetch-command';
import { doctorCommand } from './doctor/doctor-command';
import { apiFetchJwtCommand } from './api-fetch-jwt-command';
import { apiValidateJwtCommand } from './api-validate-jwt-command';
import { apiWatchCommand } from './api-watch-command';
import { healthcheckCommand } from './healthcheck-command';
import { caRotateCommand, caStatusCommand } from './ca-rotate-command';
import { usageError, type Command } from './command';

const TOP_HELP = `meshid — per-node SPIFFE workload identity agent

Usage:
  meshid run [--config FILE]                  start the agent (embedded defaults without --config)
  meshid api fetch x509 [--socket PATH] [--write DIR]
                                              fetch this process's X.509-SVIDs from a running agent
  meshid doctor --cert CHAIN [--key KEY] [--bundle BUNDLE] | --connect HOST:PORT
                                              check an X.509-SVID (files or a live TLS peer): each
                                              problem with its fix; exit 1 on any error finding
  meshid api fetch jwt --audience AUD [--spiffe-id ID] [--output json]
                                              fetch JWT-SVIDs for this process
  meshid api validate jwt --audience AUD --svid TOKEN [--output json]
                                              have the agent validate a JWT-SVID
  meshid api watch [--output json]            print every X.509-SVID update until interrupted
  meshid healthcheck [--socket PATH] [--timeout 5s]
                                              exit 0 if the agent serves bundles, 1 if not
  meshid ca rotate [--admin 127.0.0.1:8088]   rotate the upstream CA (root) make-before-break
  meshid ca status [--admin 127.0.0.1:8088]   show the root rotation phase

Run "meshid <command> --help" for the options of each command.`;

const COMMANDS: Record<string, Command> = {
  run: runCommand,
  'api fetch x509': apiFetchCommand,
  doctor: doctorCommand,
  'api fetch jwt': apiFetchJwtCommand,
  'api validate jwt': apiValidateJwtCommand,
  'api watch': apiWatchCommand,
  healthcheck: healthcheckCommand,
  'ca rotate': caRotateCommand,
  'ca status': caStatusCommand,
};

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(TOP_HELP);
    return argv.length === 0 ? 2 : 0;
  }
  // Longest verb phrase first: "api fetch x509" before "api".
  for (let words = Math.min(3, argv.length); words > 0; words--) {
    const command = COMMANDS[argv.slice(0, words).join(' ')];
    if (command) return command.run(argv.slice(words));
  }
  return usageError(`unknown command "${argv.join(' ')}"\n\n${TOP_HELP}`);
}

main(process.argv.slice(2)).then(
  (code) => {
    // `run` keeps the process alive itself; every other command ends here.
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`meshid: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
