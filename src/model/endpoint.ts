// Where a client reaches a service: what a platform hands out and a probe connects to.

export interface Endpoint {
  host: string;
  port: number;
}
