import { Layout } from '../components/layout.tsx';

export function AuditScreen() {
  return <Layout title="Audit log">{null}</Layout>;
}
