/**
 * `return_to` spellings that a URL parser reads as another host (`//evil.test/…`) once it has
 * removed dot segments, turned backslashes into slashes, dropped tabs and newlines or decoded an
 * escape; or as a scheme of its own. None may come back as a redirect target.
 */
export const HOSTILE_RETURN_PATHS: readonly string[] = [
  '/..//evil.test/x',
  '/.//evil.test/x',
  '/%2e%2e//evil.test/x',
  '/%2E%2E//evil.test/x',
  '/.%2e//evil.test/x',
  '/admin/../..//evil.test/x',
  '/admin/%2e%2e/%2e%2e//evil.test/x',
  '/\\evil.test/x',
  '\\\\evil.test/x',
  '/%5cevil.test/x',
  '/%5Cevil.test/x',
  '/\t/evil.test/x',
  '/\n/evil.test/x',
  '/\r\n/evil.test/x',
  ' //evil.test/x',
  'https://evil.test/x',
  'HTTPS://evil.test/x',
  'https:evil.test/x',
  '//evil.test/x',
  '///evil.test/x',
  '/%2f%2fevil.test/x',
  '/%2F/evil.test/x',
  'javascript:alert(1)',
  '/admin/users#//evil.test',
];
