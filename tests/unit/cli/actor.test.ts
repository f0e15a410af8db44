import { defaultActor } from '../../../cli/actor';

describe('defaultActor: who a CLI action is recorded as when --by is not given', () => {
  const account = () => 'svc-account';
  const noAccount = () => {
    throw new Error('no passwd entry');
  };

  it.each([
    [{ USER: 'alice' }, account, 'alice'],
    [{ USER: '  ', LOGNAME: 'bob' }, account, 'bob'],
    [{ USERNAME: 'carol' }, account, 'carol'],
    [{ USER: '' }, account, 'svc-account'], // an empty $USER (cron, containers) falls back to the OS account
    [{}, () => '  ', `uid-${process.getuid?.() ?? 'unknown'}`],
    [{}, noAccount, `uid-${process.getuid?.() ?? 'unknown'}`],
  ])('env %j, OS account %p → %s', (env, acct, expected) => {
    expect(defaultActor(env as NodeJS.ProcessEnv, acct)).toBe(expected);
  });

  it('never answers an empty name with the real OS lookup', () => {
    expect(defaultActor({}).trim()).not.toBe('');
  });
});
