/** Where an org's issuer lives on the server: its endpoints and discovery document are below. */
export function issuerPath(slug: string): string {
  return `/oidc/${slug}`;
}

/** The org's issuer identifier: PORTCULLIS_BASE_URL's origin and the org's path. */
export function issuerOf(publicUrl: URL, slug: string): string {
  return `${publicUrl.origin}${issuerPath(slug)}`;
}
