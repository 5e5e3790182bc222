/** Where a browser starts an org's SSO sign-in (the API route, which redirects to the provider). */
export function ssoStartPath(orgSlug: string): string {
  return `/api/v1/auth/sso/${encodeURIComponent(orgSlug)}/start`;
}
