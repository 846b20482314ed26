"""Shared settings of the graph tests."""
import pytest
import torch


@pytest.fixture(autouse=True)
def single_torch_thread():
    """Run on one intra-op thread: the tests use tiny tensors, on which some
    kernels (pooling) still open an OpenMP region whose barrier spins when
    the CPU is shared, costing ~10x. Restored after each test."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
