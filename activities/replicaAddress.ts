/** Replica and deployment addresses are `host:port` or URLs; HTTP calls need a URL without a trailing slash. */
export function toBaseUrl(address: string): string {
  const trimmed = address.trim().replace(/\/+$/, '');
  return /^https?:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
}

export function replicaUrl(address: string, path: string): string {
  return `${toBaseUrl(address)}${path.startsWith('/') ? path : `/${path}`}`;
}
