import { Layout } from '../components/layout.tsx';

export function AdminSecurityScreen() {
  return <Layout title="Account Settings → Security">{null}</Layout>;
}
