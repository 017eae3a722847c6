// Where a service answers: a host (an IP address or a name) and a TCP port. The address probes,
// workloads and both platforms speak in.
export interface Endpoint {
  host: string;
  port: number;
}
