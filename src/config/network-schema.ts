import { z } from 'zod';
import type { Registry, Sensor } from '../core/registry.ts';
import { SENSOR_MODELS } from '../ingest/vendor/models.ts';

const id = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'ids are 1-64 letters, digits, _ or - (they become MQTT topic levels)');

const curveSchema = z
  .object({
    refOutdoorC: z.number().min(-50).max(30),
    refSupplyC: z.number().min(15).max(130),
    /** °C of supply per °C the outdoor temperature falls. */
    slope: z.number().min(0).max(5),
    minSupplyC: z.number().min(10).max(130),
    maxSupplyC: z.number().min(15).max(130),
  })
  .strict()
  .refine((c) => c.minSupplyC <= c.maxSupplyC, { message: 'minSupplyC must not exceed maxSupplyC' });

const sensorSchema = z
  .object({
    /** Default: `{building}-{floor}-{column}`. */
    id: id.optional(),
    floor: z.number().int().min(1),
    column: z.number().int().min(1),
    intervalS: z.number().int().min(10).max(86_400).optional(),
    passwordHash: z.string().startsWith('scrypt$').optional(),
    /** LoRaWAN DevEUI (16 hex digits): uplinks from ChirpStack or The Things Stack name it. */
    devEui: z
      .string()
      .regex(/^[0-9A-Fa-f]{16}$/, 'a DevEUI is 16 hex digits')
      .optional(),
    /** Device model, for decoding raw uplink bytes when the network server has no codec. */
    model: z.enum(SENSOR_MODELS).optional(),
  })
  .strict();

const buildingSchema = z
  .object({
    id,
    name: z.string().min(1).optional(),
    /** The street of its address: the daily bulletin watches repeated complaints per street. */
    street: z.string().min(1).max(200).optional(),
    substation: id,
    floors: z.number().int().min(1).max(200),
    unitsPerFloor: z.number().int().min(1).max(64),
    sensors: z.array(sensorSchema).default([]),
  })
  .strict();

/** config/network.yaml: the registry of substations, buildings and room sensors. */
export const networkSchema = z
  .object({
    defaults: z
      .object({
        sensorIntervalS: z.number().int().min(10).max(86_400).default(300),
      })
      .strict()
      .prefault({}),
    weatherStation: id.default('city'),
    substations: z
      .array(z.object({ id, name: z.string().min(1).optional(), curve: curveSchema }).strict())
      .min(1),
    buildings: z.array(buildingSchema).default([]),
  })
  .strict()
  .superRefine((net, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    const substations = new Set<string>();
    net.substations.forEach((s, i) => {
      if (substations.has(s.id)) issue(['substations', i, 'id'], `duplicate substation id '${s.id}'`);
      substations.add(s.id);
    });
    const buildings = new Set<string>();
    const sensors = new Set<string>();
    const devEuis = new Set<string>();
    net.buildings.forEach((b, i) => {
      if (buildings.has(b.id)) issue(['buildings', i, 'id'], `duplicate building id '${b.id}'`);
      buildings.add(b.id);
      if (!substations.has(b.substation))
        issue(['buildings', i, 'substation'], `unknown substation '${b.substation}'`);
      b.sensors.forEach((s, j) => {
        const sid = s.id ?? `${b.id}-${s.floor}-${s.column}`;
        if (s.floor > b.floors)
          issue(
            ['buildings', i, 'sensors', j, 'floor'],
            `floor ${s.floor} is above the building's ${b.floors} floors`,
          );
        if (s.column > b.unitsPerFloor)
          issue(
            ['buildings', i, 'sensors', j, 'column'],
            `column ${s.column} is beyond the building's ${b.unitsPerFloor} units per floor`,
          );
        if (sensors.has(sid)) issue(['buildings', i, 'sensors', j], `duplicate sensor id '${sid}'`);
        sensors.add(sid);
        const eui = s.devEui?.toLowerCase();
        if (eui && devEuis.has(eui))
          issue(
            ['buildings', i, 'sensors', j, 'devEui'],
            `duplicate devEui '${eui}': one device cannot report for two units`,
          );
        if (eui) devEuis.add(eui);
      });
    });
  });

export type NetworkConfig = z.infer<typeof networkSchema>;

export function toRegistry(net: NetworkConfig): Registry {
  return {
    substations: net.substations.map((s) => ({ id: s.id, name: s.name ?? s.id, curve: s.curve })),
    buildings: net.buildings.map((b) => ({
      id: b.id,
      name: b.name ?? b.id,
      ...(b.street ? { street: b.street } : {}),
      substationId: b.substation,
      floors: b.floors,
      unitsPerFloor: b.unitsPerFloor,
    })),
    sensors: net.buildings.flatMap((b) =>
      b.sensors.map((s) => {
        // One plain object per sensor, optional keys only where set: a spread per key would make
        // every one of a million objects a quarter larger.
        const out: Sensor = {
          id: s.id ?? `${b.id}-${s.floor}-${s.column}`,
          buildingId: b.id,
          floor: s.floor,
          column: s.column,
          intervalS: s.intervalS ?? net.defaults.sensorIntervalS,
        };
        if (s.passwordHash) out.passwordHash = s.passwordHash;
        if (s.devEui) out.devEui = s.devEui.toLowerCase();
        if (s.model) out.model = s.model;
        return out;
      }),
    ),
  };
}
