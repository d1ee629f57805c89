export * from './assert-allowed';
export * from './current-identity.decorator';
export * from './identity-verifier';
export * from './identity.guard';
