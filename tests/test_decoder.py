"""The causal decoder: causal, blind to padding, and its KV-cache generation the same as recomputing."""

from __future__ import annotations

import pytest
import torch

from zoo.nn.decoder import CausalDecoder, pick


@pytest.fixture
def decoder() -> CausalDecoder:
    torch.manual_seed(0)
    return CausalDecoder(vocab_size=23, width=32, depth=2, heads=2, expansion=2.0).eval()


def left_padded(rows: list[list[int]]) -> torch.Tensor:
    width = max(map(len, rows))
    return torch.tensor([[0] * (width - len(row)) + row for row in rows])


def test_a_token_sees_only_the_tokens_before_it(decoder: CausalDecoder) -> None:
    ids = torch.randint(1, 23, (2, 9))
    changed = ids.clone()
    changed[:, 5:] = torch.randint(1, 23, (2, 4))
    assert torch.allclose(decoder(ids)[:, :5], decoder(changed)[:, :5], atol=1e-6)
    assert not torch.allclose(decoder(ids)[:, 5:], decoder(changed)[:, 5:])


def test_left_padding_changes_nothing(decoder: CausalDecoder) -> None:
    rows = [[3, 4, 5, 6, 7, 8], [9, 10, 11]]
    batch = decoder(left_padded(rows))
    for i, row in enumerate(rows):
        alone = decoder(torch.tensor([row]))[0]
        assert torch.allclose(batch[i, -len(row) :], alone, atol=1e-5)


def recomputed_greedy(decoder: CausalDecoder, row: list[int], steps: int) -> list[int]:
    ids = list(row)
    for _ in range(steps):
        logits = decoder(torch.tensor([ids]))[0, -1]
        logits[0] = float("-inf")
        ids.append(int(logits.argmax()))
    return ids[len(row) :]


def test_cached_greedy_generation_is_recomputed_greedy_generation(decoder: CausalDecoder) -> None:
    rows = [[3, 4, 5, 6, 7, 8], [9, 10, 11], [12]]
    generated = decoder.generate(left_padded(rows), max_new_tokens=7).tokens
    assert generated.shape == (3, 7)
    for i, row in enumerate(rows):
        assert generated[i].tolist() == recomputed_greedy(decoder, row, 7)


def test_generation_stops_a_row_at_its_end_token(decoder: CausalDecoder) -> None:
    rows = [[3, 4, 5], [9, 10, 11]]
    free = decoder.generate(left_padded(rows), max_new_tokens=6).tokens
    eos = int(free[0, 1])  # make the second token of row 0 its end
    stopped = decoder.generate(left_padded(rows), max_new_tokens=6, eos_id=eos).tokens
    assert stopped[0, :2].tolist() == free[0, :2].tolist() and (stopped[0, 2:] == 0).all()
    first_end = (free[1] == eos).nonzero()
    kept = int(first_end[0]) + 1 if len(first_end) else 6
    assert stopped[1, :kept].tolist() == free[1, :kept].tolist()


def test_generation_reports_each_tokens_log_probability_under_the_model(decoder: CausalDecoder) -> None:
    rows = [[3, 4, 5], [9, 10, 11, 12]]
    written = decoder.generate(left_padded(rows), max_new_tokens=4, temperature=2.0, generator=torch.Generator())
    for i, row in enumerate(rows):
        ids = row + written.tokens[i].tolist()
        logits = decoder(torch.tensor([ids]))[0, len(row) - 1 : -1]
        expected = logits.log_softmax(-1).gather(-1, written.tokens[i][:, None]).squeeze(-1)
        torch.testing.assert_close(written.log_probs[i], expected, atol=1e-5, rtol=1e-5)


def test_sampling_is_seeded_and_keeps_to_the_top_k() -> None:
    logits = torch.tensor([[0.0, 5.0, 4.0, 3.0, -1.0, 2.0]]).repeat(500, 1)
    draw = lambda seed: pick(logits, 1.0, 2, torch.Generator().manual_seed(seed), exclude=0)  # noqa: E731
    assert torch.equal(draw(1), draw(1)) and not torch.equal(draw(1), draw(2))
    assert set(draw(3).tolist()) == {1, 2}
    assert (pick(logits, 0.0, None, None, exclude=1) == 2).all(), "the excluded token is never picked"
