import type { ConfigIssue } from '../config/loader.ts';
import type { ServiceConfig } from '../config/service-schema.ts';
import { RegistryIndex } from '../core/registry.ts';
import type { LiveView } from '../state/live-view.ts';

/**
 * Rules partitioned by substation (docs/deploy.md "Past one machine: the scale-out shape"). Each
 * rules instance owns the substations listed in `partition.substations` (empty: all). Only the
 * owner evaluates a substation's buildings, opens and re-checks its tickets and publishes its
 * setpoints, so with disjoint partitions every substation has exactly one writer and tickets and
 * schedules stay consistent.
 */
export type Partition = Pick<ServiceConfig['partition'], 'substations'>;

/** A predicate the rules engine and the ticket scheduler apply before acting on a substation. */
export function ownsSubstation(partition: Partition): (substationId: string) => boolean {
  if (partition.substations.length === 0) return () => true;
  const owned = new Set(partition.substations);
  return (id) => owned.has(id);
}

/** Substations named in `partition.substations` that the registry does not know, as config issues. */
export function checkPartition(partition: Partition, registry: RegistryIndex): ConfigIssue[] {
  return partition.substations.flatMap((id, i) =>
    registry.substations.has(id)
      ? []
      : [
          {
            file: 'heatwatch.yaml',
            path: `partition.substations[${i}]`,
            message: `unknown substation '${id}'`,
          },
        ],
  );
}

/**
 * Checks a set of instances' partitions together (the deployment's view): every substation owned by
 * exactly one instance. Returns the problems, empty when the partitions are a clean split.
 */
export function checkPartitionSet(
  partitions: ReadonlyMap<string, Partition>,
  registry: RegistryIndex,
): string[] {
  const owner = new Map<string, string[]>();
  for (const [instance, p] of partitions) {
    const ids = p.substations.length === 0 ? [...registry.substations.keys()] : p.substations;
    for (const id of ids) owner.set(id, [...(owner.get(id) ?? []), instance]);
  }
  const problems: string[] = [];
  for (const id of registry.substations.keys()) {
    const o = owner.get(id) ?? [];
    if (o.length === 0) problems.push(`substation ${id} is owned by no instance`);
    if (o.length > 1) problems.push(`substation ${id} is owned by ${o.join(' and ')}`);
  }
  for (const id of owner.keys())
    if (!registry.substations.has(id))
      problems.push(`unknown substation ${id} in ${owner.get(id)!.join(', ')}`);
  return problems;
}

/** The registry cut down to the owned substations, their buildings and their sensors. */
export function partitionRegistry(index: RegistryIndex, partition: Partition): RegistryIndex {
  if (partition.substations.length === 0) return index;
  const owns = ownsSubstation(partition);
  const { registry } = index;
  const buildings = registry.buildings.filter((b) => owns(b.substationId));
  const buildingIds = new Set(buildings.map((b) => b.id));
  return new RegistryIndex({
    substations: registry.substations.filter((s) => owns(s.id)),
    buildings,
    sensors: registry.sensors.filter((s) => buildingIds.has(s.buildingId)),
  });
}

/**
 * What a rules instance sees: the full live state (ingestion needs every sensor known, or a reading
 * of another partition would be rejected as `unknown_sensor`), behind an index that holds only the
 * owned substations. The rules engine iterates `view.index`, so it evaluates, proposes and re-checks
 * the owned substations only, without a partition check in any rule. The cut index is rebuilt when
 * the live state's index changes (a registry reload).
 */
export function partitionedView<V extends LiveView>(live: V, partition: Partition): LiveView {
  if (partition.substations.length === 0) return live;
  let source: RegistryIndex | undefined;
  let cut: RegistryIndex | undefined;
  return {
    get index() {
      if (live.index !== source) {
        source = live.index;
        cut = partitionRegistry(source, partition);
      }
      return cut!;
    },
    get observation() {
      return live.observation;
    },
    get forecast() {
      return live.forecast;
    },
    sensor: (id) => live.sensor(id),
    buildingSensors: (buildingId) => live.buildingSensors(buildingId),
    buildingStats: (buildingId, now) => live.buildingStats(buildingId, now),
    substation: (id) => live.substation(id),
    isFresh: (s, now) => live.isFresh(s, now),
    isOnline: (s, now) => live.isOnline(s, now),
    // The stamps pass through, so a partition is judged incrementally too (src/rules/incremental.ts).
    get version() {
      return live.version;
    },
    buildingStamp: live.buildingStamp && ((buildingId) => live.buildingStamp!(buildingId)),
    freshForMs: live.freshForMs && ((info) => live.freshForMs!(info)),
  };
}
