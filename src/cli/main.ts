#!/usr/bin/env node
import { CommanderError } from '@commander-js/extra-typings';
import { buildProgram } from './program';
import { EXIT_USAGE, UsageError } from './usage-error';

// The process edge: every verb sets its own exit code (`run` keeps the process alive instead);
// what is thrown ends here. Commander has already printed its own errors and help.
buildProgram()
  .parseAsync(process.argv.slice(2), { from: 'user' })
  .catch((error: unknown) => {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
    } else if (error instanceof UsageError) {
      console.error(`meshid: ${error.message}`);
      process.exitCode = EXIT_USAGE;
    } else {
      console.error(`meshid: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    }
  });
