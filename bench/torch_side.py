"""PyTorch's side of the benchmarks: the environment its worker processes run in, and for the CNN
the tutorial's model and Fashion-MNIST as Debian ships it."""
import gzip
import os

DATA = "/usr/share/datasets/fashion-mnist"

# glibc's malloc at 1 GB thresholds neither returns memory to the kernel nor mmaps each tensor:
# without them PyTorch's convolutions page-fault on every call.
ONE_GB = str(1 << 30)


def worker_env():
    return dict(os.environ, MALLOC_TRIM_THRESHOLD_=ONE_GB, MALLOC_MMAP_THRESHOLD_=ONE_GB)


def fashion_mnist(torch, split, rows=None):
    """(images uint8 [N, 1, 28, 28], labels long [N]) of split 'train' or 't10k', the first rows."""
    def idx(kind, header, size):
        with gzip.open(os.path.join(DATA, f"{split}-{kind}-ubyte.gz")) as f:
            f.read(header)
            data = f.read(-1 if rows is None else rows * size)
        return torch.frombuffer(bytearray(data), dtype=torch.uint8)
    return idx("images-idx3", 16, 784).reshape(-1, 1, 28, 28), idx("labels-idx1", 8, 1).long()


def tutorial_cnn(torch, model="cnn"):
    """The tutorial's CNN with its Adam (lr 0.01) and cross-entropy: (net, optimizer, loss).
    model "cnn_bn" is examples/cnn_bn: BatchNorm2d after each convolution, Dropout(0.25) before
    the Linear layer."""
    nn = torch.nn
    bn = model == "cnn_bn"
    norm = (lambda c: [nn.BatchNorm2d(c)]) if bn else (lambda c: [])
    net = nn.Sequential(nn.Conv2d(1, 16, 5, 1, 2), *norm(16), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 5, 1, 2), *norm(32), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), *([nn.Dropout(0.25)] if bn else []), nn.Linear(32 * 7 * 7, 10))
    return net, torch.optim.Adam(net.parameters(), lr=0.01), nn.CrossEntropyLoss()
