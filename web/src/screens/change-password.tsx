import { Layout } from '../components/layout.tsx';

export function ChangePasswordScreen() {
  return <Layout title="Change Password">{null}</Layout>;
}
