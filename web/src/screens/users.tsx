import { Layout } from '../components/layout.tsx';

export function UsersScreen() {
  return <Layout title="Users">{null}</Layout>;
}
