import { Layout } from '../components/layout.tsx';

export function UserSecurityScreen() {
  return <Layout title="Security">{null}</Layout>;
}
