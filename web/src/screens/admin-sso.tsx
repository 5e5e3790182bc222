import { Layout } from '../components/layout.tsx';

export function AdminSsoScreen() {
  return <Layout title="Single sign-on">{null}</Layout>;
}
