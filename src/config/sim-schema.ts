import { z } from 'zod';

/**
 * config/sim.yaml: the simulated network's scenario (seed, building physics, weather, faults, device
 * behaviour). Every key has a default, so an empty file is a valid scenario; the physics defaults
 * are calibrated so a healthy building at the design point keeps middle units near 20.5 °C.
 */

const coldSpellSchema = z
  .object({
    /** Hours after the simulation start when the temperature starts to fall. */
    startH: z
      .number()
      .min(0)
      .max(24 * 365),
    /** How far below the normal profile the outdoor temperature goes, °C (positive number). */
    depthC: z.number().min(0).max(40),
    /** Hours the full depth is held. */
    durationH: z
      .number()
      .min(0)
      .max(24 * 60),
    /** Hours to fall to the full depth, and again to recover from it. */
    rampH: z
      .number()
      .min(0)
      .max(24 * 7)
      .default(6),
  })
  .strict();

const physicsSchema = z
  .object({
    /** Outdoor temperature at which the radiators are sized to hold `designIndoorC` in middle units. */
    designOutdoorC: z.number().min(-40).max(15).default(-5),
    /** Room temperature a healthy middle unit holds at the design point, °C. */
    designIndoorC: z.number().min(14).max(26).default(20.5),
    /** Heat-loss coefficient of a middle unit (envelope and ventilation), W/K. */
    uaMiddleWPerK: z.number().min(10).max(1000).default(100),
    /** Extra heat loss of exposed units as a share of a middle unit's; they add up (corners lose most). */
    topExtra: z.number().min(0).max(2).default(0.4),
    groundExtra: z.number().min(0).max(2).default(0.3),
    gableExtra: z.number().min(0).max(2).default(0.3),
    /**
     * How radiators of exposed units are sized relative to their extra loss: radiator capacity
     * scales with (loss factor)^this. Below 1 they are undersized, as in most existing buildings.
     */
    radiatorSizingExponent: z.number().min(0).max(1.5).default(0.8),
    /** Radiator exponent n of Q ∝ ΔT^n (EN 442 panel radiators: about 1.3). */
    radiatorExponent: z.number().min(1).max(2).default(1.3),
    /**
     * Shape of the radiator output versus flow share φ: (1 − e^(−kφ)) / (1 − e^(−k)). Larger k makes
     * output less sensitive to flow until the flow is small (k = 3: half flow gives about 82 %).
     */
    flowShapeK: z.number().min(0.5).max(10).default(3),
    /** Envelope time constant C/UA of a middle unit, hours (building inertia: hours to a day). */
    timeConstantH: z.number().min(1).max(200).default(30),
    /** Internal gains per unit (people, appliances, sun on average), W. */
    internalGainsW: z.number().min(0).max(2000).default(250),
    /** Random spread of each unit's loss and radiator size, percent (residents differ). */
    unitVariationPct: z.number().min(0).max(30).default(4),
    /** Supply temperature lost between the substation and the building entries, °C. */
    networkDropC: z.number().min(0).max(10).default(1),
    /** Time constant with which the secondary network water follows a new supply target, minutes. */
    networkLagMin: z.number().min(0).max(600).default(20),
    /** Design temperature drop supply→return at nominal flow, K (sizes the nominal flow). */
    designDeltaTK: z.number().min(3).max(40).default(20),
    /** Control-valve opening of a substation at nominal flow, percent. */
    nominalValvePct: z.number().min(5).max(100).default(80),
    /** Building-entry valve opening at nominal flow, percent (so there is room to open it). */
    nominalEntryValvePct: z.number().min(5).max(100).default(65),
    /** Physics sub-step, seconds (explicit integration; time constants are hours). */
    maxStepS: z.number().min(1).max(60).default(60),
  })
  .strict();

const weatherSchema = z
  .object({
    /** Mean outdoor temperature of the scenario, °C. */
    meanC: z.number().min(-40).max(20).default(-4),
    /** Half the difference between the afternoon maximum and the early-morning minimum, °C. */
    dailyAmplitudeC: z.number().min(0).max(15).default(3),
    /** Hour of day (local = UTC here) of the maximum. */
    warmestHour: z.number().min(0).max(24).default(15),
    /** Standard deviation of the slow random weather variation, °C. */
    noiseC: z.number().min(0).max(10).default(1.2),
    /** Correlation time of that variation, hours. */
    noiseHours: z.number().min(1).max(96).default(8),
    /** Standard deviation of the forecast error at 72 h ahead, °C (it grows with the horizon). */
    forecastErrorC: z.number().min(0).max(10).default(1),
    /** Hours the forecast covers, hourly points. */
    forecastHorizonH: z.number().int().min(1).max(240).default(72),
    coldSpells: z.array(coldSpellSchema).default([{ startH: 48, depthC: 9, durationH: 30, rampH: 12 }]),
  })
  .strict();

const faultsSchema = z
  .object({
    /** Share of buildings with too little flow (clogged filter, throttled valve), chosen by the seed. */
    underSuppliedShare: z.number().min(0).max(1).default(0.12),
    /** Share of buildings whose exposed units get too little flow (long risers), chosen by the seed. */
    unbalancedShare: z.number().min(0).max(1).default(0.12),
    /** Explicit lists override the seeded choice (give [] to have none). */
    underSupplied: z.array(z.string()).optional(),
    unbalanced: z.array(z.string()).optional(),
    /** Hydraulic factor of an under-supplied building (share of its nominal flow). */
    underSupplyFactor: z.number().min(0.01).max(1).default(0.5),
    /** Flow factor of exposed units in an unbalanced building. */
    unbalancedExposedFactor: z.number().min(0.01).max(1).default(0.5),
  })
  .strict();

const messageFaultsSchema = z
  .object({
    /** Probability that a reading goes out malformed (not JSON, wrong types, out of range, no ts). */
    malformedRate: z.number().min(0).max(1).default(0.002),
    /** Probability that a reading is published twice. */
    duplicateRate: z.number().min(0).max(1).default(0.003),
    /** Probability that a reading is held back and sent after the next one. */
    outOfOrderRate: z.number().min(0).max(1).default(0.003),
    /** Probability per sensor per day of a dropout (radio silence, readings buffered). */
    dropoutPerDay: z.number().min(0).max(1000).default(0.05),
    /** Shortest and longest dropout, hours. */
    dropoutMinH: z.number().min(0).max(240).default(0.5),
    dropoutMaxH: z.number().min(0).max(240).default(6),
  })
  .strict();

const devicesSchema = z
  .object({
    /** Firmware version reported in the retained status message. */
    firmware: z.string().min(1).max(32).default('1.2.0'),
    /** Jitter of the report interval, as a share of it (±). */
    intervalJitter: z.number().min(0).max(0.5).default(0.1),
    /** Standard deviation of the sensor's measurement noise, °C (before 0.1 °C rounding). */
    noiseC: z.number().min(0).max(5).default(0.15),
    /** Fixed calibration error per sensor: standard deviation, °C. */
    biasC: z.number().min(0).max(5).default(0.1),
    /** Resolution the firmware rounds to, °C. */
    resolutionC: z.number().min(0.01).max(1).default(0.1),
    /** Battery voltage at start: a new cell, minus a seeded age. */
    batteryFullV: z.number().min(1).max(5).default(3.3),
    batteryMinV: z.number().min(1).max(5).default(2.9),
    /** Voltage lost per day of reporting. */
    batteryDropVPerDay: z.number().min(0).max(0.1).default(0.002),
    /** Readings kept while disconnected; the oldest are dropped beyond it (firmware RAM). */
    bufferMax: z.number().int().min(1).max(10_000).default(288),
    /** Every reading also carries humidity. */
    humidity: z.boolean().default(true),
    /**
     * How sensors reach the broker: one MQTT connection each (as real devices do), or gateways that
     * publish for many sensors on each sensor's topic (load tests). `auto`: per device up to
     * `perDeviceMaxSensors` sensors, gateways beyond.
     */
    connection: z.enum(['auto', 'per-device', 'gateway']).default('auto'),
    perDeviceMaxSensors: z.number().int().min(1).max(100_000).default(2000),
    sensorsPerGateway: z.number().int().min(1).max(100_000).default(1000),
    /** Wall-clock wait before a lost connection is retried, ms. */
    reconnectPeriodMs: z.number().int().min(10).max(600_000).default(1000),
    /** Wall-clock time start() waits for the connections before the schedule starts, ms (0: none). */
    startWaitMs: z.number().int().min(0).max(60_000).default(5000),
    /** Wall-clock time stop() waits for offline statuses and acknowledgements, ms. */
    stopWaitMs: z.number().int().min(0).max(60_000).default(5000),
    /** Wall-clock MQTT keepalive, seconds. */
    keepaliveS: z.number().int().min(5).max(3600).default(30),
  })
  .strict();

/**
 * How the simulated substation controllers treat setpoint commands, so heatwatch's confirmation
 * check can be judged against a controller that never applies a command or applies it late.
 */
const controllerSchema = z
  .object({
    /** Substations whose controller receives setpoints but never applies them (stuck, or in manual mode). */
    ignoring: z.array(z.string().min(1)).default([]),
    /** Heating-time seconds a controller takes to apply a received setpoint (0: at once). */
    applyDelayS: z
      .number()
      .min(0)
      .max(7 * 86_400)
      .default(0),
  })
  .strict();

export const simSchema = z
  .object({
    /** Seed of every random choice: faults, weather, noise. The same seed gives the same run. */
    seed: z.number().int().default(42),
    /** Heating time between simulator ticks, ms; events in a tick are published in time order. */
    tickMs: z.number().int().min(100).max(600_000).default(10_000),
    /** How often each substation meter publishes telemetry, seconds. */
    substationIntervalS: z.number().int().min(5).max(86_400).default(60),
    /** How often the weather feed publishes an observation, seconds. */
    observationIntervalS: z.number().int().min(5).max(86_400).default(600),
    /** How often a forecast is issued, seconds. */
    forecastIntervalS: z.number().int().min(60).max(86_400).default(10_800),
    physics: physicsSchema.prefault({}),
    weather: weatherSchema.prefault({}),
    faults: faultsSchema.prefault({}),
    messageFaults: messageFaultsSchema.prefault({}),
    devices: devicesSchema.prefault({}),
    controller: controllerSchema.prefault({}),
  })
  .strict();

export type SimConfig = z.infer<typeof simSchema>;
export type ColdSpell = z.infer<typeof coldSpellSchema>;
