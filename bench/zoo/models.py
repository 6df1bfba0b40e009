"""The model zoo: models that are not lesson 10, each one layer list that both kiln's tracer
(bench/zoo/zoo_trace.cpp) and PyTorch build from, so the two sides train one definition.

Each entry: name, input shape of one row (C,H,W or F), batch, optimizer (sgd:LR[:MOMENTUM] or
adam:LR), data ("fashion-mnist": Debian's Fashion-MNIST, the first rows in file order; or
"synthetic": uniform [0, 1) inputs and uniform labels, seeded) and the layers. The loss is
cross-entropy over 10 classes.
"""

MODELS = [
    # Few channels: a LeNet-style net written from scratch.
    dict(name="cnn_1_4_12", input=(1, 28, 28), batch=50, optimizer="sgd:0.05:0.9", data="fashion-mnist",
         layers="conv 1 4 5 1 2; relu; maxpool 2 2; conv 4 12 5 1 2; relu; maxpool 2 2; flatten; linear 588 10"),
    dict(name="cnn_rgb_3_8_16", input=(3, 32, 32), batch=32, optimizer="sgd:0.05:0.9", data="synthetic",
         layers="conv 3 8 3 1 1; relu; maxpool 2 2; conv 8 16 3 1 1; relu; maxpool 2 2; flatten; linear 1024 10"),
    # A VGG-style stack of 3x3 convolutions.
    dict(name="vgg_3x3", input=(3, 32, 32), batch=32, optimizer="sgd:0.02:0.9", data="synthetic",
         layers="conv 3 32 3 1 1; relu; conv 32 32 3 1 1; relu; maxpool 2 2; "
                "conv 32 64 3 1 1; relu; conv 64 64 3 1 1; relu; maxpool 2 2; flatten; linear 4096 10"),
    # A 7x7 stride-2 stem, a 1x1 convolution, a 3x3 stride-2 one, average pooling.
    dict(name="stem_7x7_s2_1x1", input=(3, 32, 32), batch=32, optimizer="sgd:0.05:0.9", data="synthetic",
         layers="conv 3 24 7 2 3; relu; conv 24 48 1 1 0; relu; conv 48 48 3 2 1; relu; avgpool 2 2; "
                "flatten; linear 768 10"),
    # LeNet-5 as published: tanh and average pooling, 6 and 16 channels.
    dict(name="lenet5_tanh_avgpool", input=(1, 28, 28), batch=64, optimizer="adam:0.001", data="fashion-mnist",
         layers="conv 1 6 5 1 2; tanh; avgpool 2 2; conv 6 16 5 1 0; tanh; avgpool 2 2; flatten; "
                "linear 400 120; tanh; linear 120 84; tanh; linear 84 10"),
    # Odd sizes: 27x27 images, 10 and 20 channels, overlapping 3x3 stride-2 max pooling.
    dict(name="odd_27_10_20", input=(1, 27, 27), batch=50, optimizer="sgd:0.05:0.9", data="synthetic",
         layers="conv 1 10 3 1 1; relu; maxpool 3 2; conv 10 20 3 1 0; relu; maxpool 2 2; flatten; linear 500 10"),
    # 17 and 5 channels, 3x3 max pooling at stride 1, 3x3 average pooling at stride 3, sigmoid.
    dict(name="odd_17_5_pool3", input=(3, 24, 24), batch=32, optimizer="sgd:0.05:0.9", data="synthetic",
         layers="conv 3 17 3 1 0; relu; maxpool 3 1; conv 17 5 5 1 2; sigmoid; avgpool 3 3; flatten; linear 180 10"),
    # Bias-free convolutions (as before a normalisation layer), LeakyReLU and Softplus.
    dict(name="cnn_nobias_leaky", input=(1, 28, 28), batch=32, optimizer="sgd:0.05:0.9", data="fashion-mnist",
         layers="convnb 1 8 3 1 1; leakyrelu; maxpool 2 2; convnb 8 16 3 1 1; softplus; avgpool 2 2; flatten; "
                "linear 784 10"),
    # Alternating 3x3 stride-2 and 1x1 convolutions inside the net, a global average pool head.
    dict(name="strided_1x1_gap", input=(3, 32, 32), batch=32, optimizer="sgd:0.05:0.9", data="synthetic",
         layers="conv 3 16 3 1 1; relu; conv 16 32 3 2 1; relu; conv 32 32 1 1 0; relu; conv 32 64 3 2 1; relu; "
                "conv 64 64 1 1 0; relu; avgpool 8 8; flatten; linear 64 10"),
    # 10, 20 and 24 channels, a stride-2 3x3 and a 1x1 convolution, a 14x14 global average pool.
    dict(name="gap_10_20_24", input=(1, 28, 28), batch=50, optimizer="sgd:0.05:0.9", data="fashion-mnist",
         layers="conv 1 10 3 1 1; relu; conv 10 20 3 2 1; relu; conv 20 24 1 1 0; relu; avgpool 14 14; flatten; "
                "linear 24 10"),
    # A residual CNN with BatchNorm: stride-2 3x3 convolutions inside the net, 1x1 shortcuts, a
    # global average pool head.
    dict(name="resnet_bn_16_32_64", input=(3, 32, 32), batch=32, optimizer="sgd:0.02:0.9", data="synthetic",
         layers="convnb 3 16 3 1 1; bn 16; relu; res 16 16 1; res 16 32 2; res 32 64 2; avgpool 8 8; flatten; "
                "linear 64 10"),
    dict(name="mlp_256", input=(784,), batch=64, optimizer="sgd:0.05:0.9", data="fashion-mnist",
         layers="linear 784 256; relu; linear 256 256; relu; linear 256 10"),
    dict(name="mlp_1024", input=(784,), batch=256, optimizer="sgd:0.01:0.9", data="fashion-mnist",
         layers="linear 784 1024; relu; linear 1024 1024; relu; linear 1024 10"),
    dict(name="mlp_sigmoid_512", input=(784,), batch=128, optimizer="adam:0.001", data="fashion-mnist",
         layers="linear 784 512; sigmoid; linear 512 10"),
    dict(name="mlp_tanh_300", input=(100,), batch=200, optimizer="sgd:0.05:0.9", data="synthetic",
         layers="linear 100 300; tanh; linear 300 300; tanh; linear 300 300; tanh; linear 300 10"),
    dict(name="mlp_batch512", input=(64,), batch=512, optimizer="sgd:0.05:0.9", data="synthetic",
         layers="linear 64 1024; relu; linear 1024 10"),
    dict(name="mlp_batch1", input=(32,), batch=1, optimizer="sgd:0.01", data="synthetic",
         layers="linear 32 64; relu; linear 64 10"),
]


def is_cnn(model):
    return len(model["input"]) == 3


def residual(torch, cin, cout, stride):
    """bench/zoo/zoo_trace.cpp's residual block, with the same parameter names."""
    nn = torch.nn

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            changes = stride != 1 or cin != cout
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                                          nn.BatchNorm2d(cout)) if changes else nn.Sequential()

        def forward(self, x):
            y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
            return torch.relu(y + self.shortcut(x))

    return Residual()


def build_torch(torch, model):
    """PyTorch's twin of a zoo model: an nn.Sequential whose state_dict names match kiln's."""
    nn = torch.nn
    layers = []
    for text in model["layers"].split(";"):
        words = text.split()
        kind, a = words[0], [int(w) for w in words[1:]]
        if kind in ("conv", "convnb"):
            layers.append(nn.Conv2d(a[0], a[1], a[2], a[3], a[4], bias=kind == "conv"))
        elif kind == "linear":
            layers.append(nn.Linear(a[0], a[1]))
        elif kind == "bn":
            layers.append(nn.BatchNorm2d(a[0]))
        elif kind == "res":
            layers.append(residual(torch, a[0], a[1], a[2]))
        elif kind == "maxpool":
            layers.append(nn.MaxPool2d(a[0], a[1]))
        elif kind == "avgpool":
            layers.append(nn.AvgPool2d(a[0], a[1]))
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif kind == "leakyrelu":
            layers.append(nn.LeakyReLU())
        elif kind == "softplus":
            layers.append(nn.Softplus())
        elif kind == "tanh":
            layers.append(nn.Tanh())
        elif kind == "sigmoid":
            layers.append(nn.Sigmoid())
        elif kind == "flatten":
            layers.append(nn.Flatten())
        else:
            raise ValueError("unknown layer %r in %s" % (kind, model["name"]))
    return nn.Sequential(*layers)


def build_optimizer(torch, model, params):
    kind, *numbers = model["optimizer"].split(":")
    numbers = [float(n) for n in numbers]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=numbers[0], momentum=numbers[1] if len(numbers) > 1 else 0.0)
    if kind == "adam":
        return torch.optim.Adam(params, lr=numbers[0])
    raise ValueError("unknown optimizer %r in %s" % (kind, model["name"]))
