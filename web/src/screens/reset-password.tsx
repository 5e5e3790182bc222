import { CardPage } from '../components/layout.tsx';

export function ResetPasswordScreen() {
  return <CardPage title="Choose a new password">{null}</CardPage>;
}
