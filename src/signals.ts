/**
 * SIGINT/SIGTERM: stop taking new work and let in-flight work end cleanly (a key date that was cut
 * short publishes nothing and clears its staging), then exit 128+signal. A second signal exits at once.
 */
const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;

export async function withShutdownSignals(run: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  let received: keyof typeof SIGNAL_NUMBERS | undefined;
  const handler = (name: keyof typeof SIGNAL_NUMBERS) => () => {
    if (received) process.exit(128 + SIGNAL_NUMBERS[name]);
    received = name;
    process.stderr.write(`s3logs: ${name} received; finishing in-flight work, publishing nothing half-done (send again to exit now)\n`);
    controller.abort(name);
  };
  const onInt = handler('SIGINT');
  const onTerm = handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const code = await run(controller.signal);
    return received ? 128 + SIGNAL_NUMBERS[received] : code;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
