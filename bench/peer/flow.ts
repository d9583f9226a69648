/**
 * The flow a heating engineer would build instead of heatwatch: MQTT in (QoS 1, JSON) → a function
 * that turns a reading (or a store-and-forward array) into points tagged with the sensor → InfluxDB
 * out (node-red-contrib-influxdb, v2 write API). Written as Node-RED flow JSON for one run.
 */
export function peerFlow(o: {
  mqttPort: number;
  protocolVersion: 4 | 5;
  topic: string;
  influxUrl: string;
  measurement: string;
}): unknown[] {
  const toPoints = [
    "const sensor = msg.topic.split('/').at(-2);",
    'const list = Array.isArray(msg.payload) ? msg.payload : [msg.payload];',
    'msg.payload = list.map((r) => [',
    '  { temp: r.temp, humidity: r.humidity, battery: r.battery, seq: r.seq, time: new Date(r.ts) },',
    '  { sensor },',
    ']);',
    'return msg;',
  ].join('\n');
  return [
    { id: 'tab1', type: 'tab', label: 'heating sensors' },
    {
      id: 'broker1',
      type: 'mqtt-broker',
      name: 'bench broker',
      broker: '127.0.0.1',
      port: String(o.mqttPort),
      clientid: `bench-nodered-${process.pid}`,
      autoConnect: true,
      usetls: false,
      protocolVersion: String(o.protocolVersion),
      keepalive: '60',
      cleansession: true,
      autoUnsubscribe: true,
    },
    {
      id: 'in1',
      type: 'mqtt in',
      z: 'tab1',
      name: 'telemetry',
      topic: o.topic,
      qos: '1',
      datatype: 'json',
      broker: 'broker1',
      nl: false,
      rap: true,
      rh: 0,
      inputs: 0,
      wires: [['fn1']],
    },
    {
      id: 'fn1',
      type: 'function',
      z: 'tab1',
      name: 'to points',
      func: toPoints,
      outputs: 1,
      wires: [['out1']],
    },
    {
      id: 'influx1',
      type: 'influxdb',
      hostname: '127.0.0.1',
      port: '8086',
      protocol: 'http',
      database: '',
      name: 'victoria',
      usetls: false,
      influxdbVersion: '2.0',
      url: o.influxUrl,
      timeout: '10',
      rejectUnauthorized: false,
    },
    {
      id: 'out1',
      type: 'influxdb out',
      z: 'tab1',
      influxdb: 'influx1',
      name: 'store',
      measurement: o.measurement,
      precision: '',
      retentionPolicy: '',
      database: '',
      precisionV18FluxV20: 'ms',
      retentionPolicyV18Flux: '',
      org: 'heatwatch',
      bucket: 'heatwatch',
      wires: [],
    },
  ];
}
