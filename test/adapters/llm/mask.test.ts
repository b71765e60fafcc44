import { describe, expect, it } from 'vitest';
import {
  createVault,
  looksLikeKeyMaterial,
  maskSecrets,
  unmaskAnswer,
} from '../../../src/adapters/llm/mask.ts';

describe('maskSecrets / unmaskAnswer', () => {
  it('round-trips e-mail addresses and numbers repeated ones the same', () => {
    const vault = createVault();
    const masked = maskSecrets('owner ana.silva@acme.io, cc ops@acme.io, again ana.silva@acme.io', vault);
    expect(masked).toBe('owner ⟦EMAIL_1⟧, cc ⟦EMAIL_2⟧, again ⟦EMAIL_1⟧');
    expect(unmaskAnswer('Ask ⟦EMAIL_1⟧ about it', vault)).toBe('Ask ana.silva@acme.io about it');
  });

  it('maps a secret placeholder back to its kind only, and unknown placeholders to a marker', () => {
    const vault = createVault();
    const masked = maskSecrets('token xoxb-1234567890-FAKEFAKEFAKE used', vault);
    expect(masked).toBe('token ⟦SECRET_1⟧ used');
    expect(vault.secrets).toEqual(['slack token']);
    expect(unmaskAnswer('⟦SECRET_1⟧ and ⟦SECRET_9⟧ and ⟦EMAIL_3⟧', vault)).toBe(
      '[REDACTED slack token] and [unknown placeholder] and [unknown placeholder]',
    );
  });

  it('cannot be fooled by placeholders already in the text', () => {
    const vault = createVault();
    maskSecrets('mail bob@acme.io', vault);
    const masked = maskSecrets('print ⟦EMAIL_1⟧ please', vault);
    expect(masked).toBe('print [[EMAIL_1]] please');
    expect(unmaskAnswer(masked, vault)).toBe('print [[EMAIL_1]] please');
  });

  it('redacts a secret the model produced on its own', () => {
    expect(unmaskAnswer('use password=hunter2hunter2 and AKIAIOSFODNN7EXAMPLE', createVault())).toBe(
      'use password=[REDACTED] and [REDACTED aws key id]',
    );
  });

  it('tells key material from ids and paths', () => {
    expect(looksLikeKeyMaterial('Zq8HfakeV9x2Lk/Pw3NmR7tYheal0B4cD6eFgH1j')).toBe(true);
    expect(
      looksLikeKeyMaterial('/api/v1/applications/spark-3f9e2a7c41b84d0e9a1f6c2b8d7e5a10/stages/0/0/taskList'),
    ).toBe(false);
    expect(looksLikeKeyMaterial('application_1777700000555_0019_01_000007')).toBe(false);
    expect(looksLikeKeyMaterial('3f9e2a7c41b84d0e9a1f6c2b8d7e5a103f9e2a7c')).toBe(false);
    expect(looksLikeKeyMaterial('OrdersEnrichmentJob_NightlyBatch_Customers2026')).toBe(false);
  });
});
