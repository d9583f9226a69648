import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimRunner } from '../../firmware-sim/runner.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { freePort, hasCommand, portOpen, serverAvailable, uniqueRoot } from '../support/servers.ts';
import { CountingSubscriber, quietScenario, smallRegistry, waitFor } from './helpers.ts';

const MIN = 60_000;
const MOSQUITTO = '/usr/sbin/mosquitto';
const machineMosquitto = serverAvailable(
  'Mosquitto on 127.0.0.1:1883',
  await portOpen(1883),
  'install mosquitto (apt-get install mosquitto) and start it',
);
const ownMosquitto = serverAvailable(
  'the mosquitto binary',
  hasCommand(MOSQUITTO),
  'apt-get install mosquitto (the test starts its own on a free port)',
);

/** A Mosquitto of our own that saves its state on SIGTERM, so sessions survive a restart. */
class OwnMosquitto {
  private proc: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'hw-mosq-'));

  constructor(readonly port: number) {
    // Started as root, mosquitto drops to its own user, which must be able to save its database here.
    chmodSync(this.dir, 0o777);
    writeFileSync(
      join(this.dir, 'mosquitto.conf'),
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence true',
        `persistence_location ${this.dir}/`,
        // docs/architecture.md: the defaults drop QoS 1 messages queued for a slow or absent subscriber.
        'max_queued_messages 100000',
        'max_inflight_messages 0',
        'log_dest none',
      ].join('\n'),
    );
  }

  async start(): Promise<void> {
    this.proc = spawn(MOSQUITTO, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: 'ignore' });
    const end = Date.now() + 15_000;
    while (!(await portOpen(this.port))) {
      if (Date.now() > end) throw new Error('mosquitto did not start listening');
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('simulator publishing through Mosquitto', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  async function runAgainst(url: string) {
    const root = uniqueRoot('simmq');
    const sub = new CountingSubscriber(url, root, `counter-${root}`);
    await sub.start();
    cleanups.push(() => sub.stop());
    const clock = new ManualClock();
    const runner = new SimRunner({
      registry: smallRegistry(3),
      scenario: quietScenario(),
      clock,
      brokerUrl: url,
      topicRoot: root,
      log: silentLogger(),
      // The machine's broker is shared with other test runs: client ids must not collide.
      clientIdSuffix: root,
    });
    await runner.start();
    cleanups.push(() => runner.stop());
    await waitFor(() => runner.stats().connected === runner.stats().connections, 'all connections');
    return { sub, clock, runner };
  }

  it.runIf(machineMosquitto)(
    'the machine broker delivers every reading and meter message that was sent',
    async () => {
      const { sub, clock, runner } = await runAgainst('mqtt://127.0.0.1:1883');
      await clock.advanceAsync(30 * MIN, MIN);
      await waitFor(() => runner.stats().inFlight === 0, 'acks');
      const s = runner.stats();
      await waitFor(() => sub.readingsReceived >= s.readingsPublished, 'delivery');
      expect(s.readingsPublished).toBeGreaterThan(12 * 27);
      expect(sub.uniqueReadings).toBe(s.readingsPublished);
      expect(sub.readingsReceived).toBe(s.readingsPublished);
      await waitFor(() => sub.substation.length === s.substationMessages, 'meter messages');
      expect(sub.status.size).toBe(12);
    },
  );

  it.runIf(ownMosquitto)('store-and-forward batches arrive after a Mosquitto restart', async () => {
    const broker = new OwnMosquitto(await freePort());
    cleanups.push(() => broker.cleanup());
    await broker.start();
    cleanups.push(() => broker.stop());
    const { sub, clock, runner } = await runAgainst(`mqtt://127.0.0.1:${broker.port}`);
    await clock.advanceAsync(10 * MIN, MIN);
    await waitFor(() => runner.stats().inFlight === 0, 'acks before the outage');
    await waitFor(
      () => sub.readingsReceived === runner.stats().readingsPublished,
      'delivery before the outage',
    );
    const beforeOutage = new Set(sub.readingKeys.keys());
    await broker.stop();
    await waitFor(() => runner.stats().connected === 0, 'clients to notice the outage');
    await clock.advanceAsync(20 * MIN, MIN);
    const during = runner.stats();
    expect(during.buffered).toBeGreaterThanOrEqual(12 * 17);
    await broker.start();
    await waitFor(() => runner.stats().connected === runner.stats().connections, 'reconnect');
    await waitFor(() => runner.stats().buffered === 0 && runner.stats().inFlight === 0, 'backlog flushed');
    const after = runner.stats();
    await waitFor(
      // Distinct readings and arrays: a redelivery must not end the wait before the last batch.
      () => sub.uniqueReadings >= after.readingsPublished && sub.arrays >= after.batchesPublished,
      `backlog delivered (${sub.readingsReceived} of ${after.readingsPublished}, subscriber connected ${sub.client?.connected}, arrays ${sub.arrays})`,
    );
    expect(after.batchesPublished).toBe(12);
    expect(after.batchReadings).toBe(during.buffered);
    expect(sub.arrays).toBe(12);
    expect(sub.uniqueReadings).toBe(after.readingsPublished);
    const twice = [...sub.readingKeys].filter(([, n]) => n > 1).map(([k]) => k);
    expect(twice.filter((k) => !beforeOutage.has(k))).toEqual([]);
  });
});
