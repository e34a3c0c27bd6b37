"""torchvision.models' classification architectures, as source the trace parser follows (never executed).

Written from torchvision 0.29's own definitions (torchvision/models/resnet.py, vgg.py, alexnet.py,
mobilenetv2.py, mobilenetv3.py, squeezenet.py, densenet.py,
efficientnet.py, shufflenetv2.py, mnasnet.py, googlenet.py,
inception.py, regnet.py), construct for construct where it changes a
module's path, shape or parameter count; what only loads weights, logs or initialises is left out (a
``weights=`` / ``pretrained=`` argument changes no shape). tests/golden/record_traces.py records the real
torchvision models built from pasted calls, and tests/core/test_trace.py compares every row.
"""

FACTORIES = ("alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
             "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
             "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2", "mobilenet_v2", "mobilenet_v3_large",
             "mobilenet_v3_small", "squeezenet1_0", "squeezenet1_1", "densenet121", "densenet161", "densenet169",
             "densenet201", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
             "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7", "efficientnet_v2_s",
             "efficientnet_v2_m", "efficientnet_v2_l", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0",
             "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
             "googlenet", "inception_v3", "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf",
             "regnet_y_8gf", "regnet_y_16gf", "regnet_y_32gf", "regnet_y_128gf", "regnet_x_400mf", "regnet_x_800mf",
             "regnet_x_1_6gf", "regnet_x_3_2gf", "regnet_x_8gf", "regnet_x_16gf", "regnet_x_32gf")

SOURCE = r'''
def _weights(kwargs, weights, pretrained):
    if (weights is not None or pretrained) and kwargs.get("num_classes", 1000) != 1000:
        raise ValueError("pretrained weights are for 1000 classes")


# ---- alexnet.py
class AlexNet(nn.Module):
    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def alexnet(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    return AlexNet(**kwargs)


# ---- vgg.py
class VGG(nn.Module):
    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def make_layers(cfg, batch_norm=False):
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def _vgg(cfg, batch_norm, weights, pretrained, kwargs):
    _weights(kwargs, weights, pretrained)
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


def vgg11(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _vgg("A", False, weights, pretrained, kwargs)


def vgg11_bn(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _vgg("A", True, weights, pretrained, kwargs)


def vgg13(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _vgg("B", False, weights, pretrained, kwargs)


def vgg13_bn(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _vgg("B", True, weights, pretrained, kwargs)


def vgg16(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _vgg("D", False, weights, pretrained, kwargs)


def vgg16_bn(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _vgg("D", True, weights, pretrained, kwargs)


def vgg19(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _vgg("E", False, weights, pretrained, kwargs)


def vgg19_bn(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _vgg("E", True, weights, pretrained, kwargs)


# ---- resnet.py
def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups,
                     bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1):
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1, width_per_group=64,
                 replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width, previous_dilation)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                dilation=self.dilation))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def _resnet(block, layers, weights, pretrained, kwargs):
    _weights(kwargs, weights, pretrained)
    return ResNet(block, layers, **kwargs)


def resnet18(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, pretrained, kwargs)


def resnet34(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, pretrained, kwargs)


def resnet50(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, pretrained, kwargs)


def resnet101(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, pretrained, kwargs)


def resnet152(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _resnet(Bottleneck, [3, 8, 36, 3], weights, pretrained, kwargs)


def resnext50_32x4d(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, pretrained, {**kwargs, "groups": 32, "width_per_group": 4})


def resnext101_32x8d(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, pretrained, {**kwargs, "groups": 32, "width_per_group": 8})


def resnext101_64x4d(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, pretrained, {**kwargs, "groups": 64, "width_per_group": 4})


def wide_resnet50_2(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, pretrained, {**kwargs, "width_per_group": 128})


def wide_resnet101_2(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, pretrained, {**kwargs, "width_per_group": 128})


# ---- ops/misc.py and mobilenetv2.py
def _make_divisible(v, divisor, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def Conv2dNormActivation(in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                         norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None):
    if padding is None:
        padding = (kernel_size - 1) // 2 * dilation
    if bias is None:
        bias = norm_layer is None
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation, groups=groups,
                        bias=bias)]
    if norm_layer is not None:
        layers.append(norm_layer(out_channels))
    if activation_layer is not None:
        layers.append(activation_layer(inplace=inplace))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6))
        layers.extend([
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim, norm_layer=norm_layer,
                                 activation_layer=nn.ReLU6),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            norm_layer(oup),
        ])
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None, round_nearest=8,
                 block=None, norm_layer=None, dropout=0.2):
        super().__init__()
        if block is None:
            block = InvertedResidual
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        input_channel = 32
        last_channel = 1280
        if inverted_residual_setting is None:
            inverted_residual_setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
                                         [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]
        input_channel = _make_divisible(input_channel * width_mult, round_nearest)
        self.last_channel = _make_divisible(last_channel * max(1.0, width_mult), round_nearest)
        features = [Conv2dNormActivation(3, input_channel, stride=2, norm_layer=norm_layer,
                                         activation_layer=nn.ReLU6)]
        for t, c, n, s in inverted_residual_setting:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                stride = s if i == 0 else 1
                features.append(block(input_channel, output_channel, stride, expand_ratio=t, norm_layer=norm_layer))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1, norm_layer=norm_layer,
                                             activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def mobilenet_v2(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    return MobileNetV2(**kwargs)


# ---- mobilenetv3.py
class SqueezeExcitation(nn.Module):
    def __init__(self, input_channels, squeeze_channels, activation=nn.ReLU, scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, x):
        scale = self.avgpool(x)
        scale = self.activation(self.fc1(scale))
        scale = self.scale_activation(self.fc2(scale))
        return scale * x


def bneck_conf(input_channels, kernel, expanded_channels, out_channels, use_se, activation, stride, dilation,
               width_mult):
    return (_make_divisible(input_channels * width_mult, 8), kernel, _make_divisible(expanded_channels * width_mult, 8),
            _make_divisible(out_channels * width_mult, 8), use_se, activation == "HS", stride, dilation)


class InvertedResidualV3(nn.Module):
    def __init__(self, cnf, norm_layer):
        super().__init__()
        input_channels, kernel, expanded_channels, out_channels, use_se, use_hs, stride, dilation = cnf
        self.use_res_connect = stride == 1 and input_channels == out_channels
        activation_layer = nn.Hardswish if use_hs else nn.ReLU
        layers = []
        if expanded_channels != input_channels:
            layers.append(Conv2dNormActivation(input_channels, expanded_channels, kernel_size=1,
                                               norm_layer=norm_layer, activation_layer=activation_layer))
        stride = 1 if dilation > 1 else stride
        layers.append(Conv2dNormActivation(expanded_channels, expanded_channels, kernel_size=kernel, stride=stride,
                                           dilation=dilation, groups=expanded_channels, norm_layer=norm_layer,
                                           activation_layer=activation_layer))
        if use_se:
            squeeze_channels = _make_divisible(expanded_channels // 4, 8)
            layers.append(SqueezeExcitation(expanded_channels, squeeze_channels, scale_activation=nn.Hardsigmoid))
        layers.append(Conv2dNormActivation(expanded_channels, out_channels, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        result = self.block(x)
        if self.use_res_connect:
            result += x
        return result


class MobileNetV3(nn.Module):
    def __init__(self, inverted_residual_setting, last_channel, num_classes=1000, dropout=0.2):
        super().__init__()
        norm_layer = functools.partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        firstconv_output_channels = inverted_residual_setting[0][0]
        layers = [Conv2dNormActivation(3, firstconv_output_channels, kernel_size=3, stride=2, norm_layer=norm_layer,
                                       activation_layer=nn.Hardswish)]
        for cnf in inverted_residual_setting:
            layers.append(InvertedResidualV3(cnf, norm_layer))
        lastconv_input_channels = inverted_residual_setting[-1][3]
        lastconv_output_channels = 6 * lastconv_input_channels
        layers.append(Conv2dNormActivation(lastconv_input_channels, lastconv_output_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(lastconv_output_channels, last_channel), nn.Hardswish(inplace=True),
                                        nn.Dropout(p=dropout, inplace=True), nn.Linear(last_channel, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def _mobilenet_v3_conf(arch, width_mult=1.0, reduced_tail=False, dilated=False):
    r = 2 if reduced_tail else 1
    d = 2 if dilated else 1
    w = width_mult
    if arch == "mobilenet_v3_large":
        setting = [bneck_conf(16, 3, 16, 16, False, "RE", 1, 1, w), bneck_conf(16, 3, 64, 24, False, "RE", 2, 1, w),
                   bneck_conf(24, 3, 72, 24, False, "RE", 1, 1, w), bneck_conf(24, 5, 72, 40, True, "RE", 2, 1, w),
                   bneck_conf(40, 5, 120, 40, True, "RE", 1, 1, w), bneck_conf(40, 5, 120, 40, True, "RE", 1, 1, w),
                   bneck_conf(40, 3, 240, 80, False, "HS", 2, 1, w), bneck_conf(80, 3, 200, 80, False, "HS", 1, 1, w),
                   bneck_conf(80, 3, 184, 80, False, "HS", 1, 1, w), bneck_conf(80, 3, 184, 80, False, "HS", 1, 1, w),
                   bneck_conf(80, 3, 480, 112, True, "HS", 1, 1, w),
                   bneck_conf(112, 3, 672, 112, True, "HS", 1, 1, w),
                   bneck_conf(112, 5, 672, 160 // r, True, "HS", 2, d, w),
                   bneck_conf(160 // r, 5, 960 // r, 160 // r, True, "HS", 1, d, w),
                   bneck_conf(160 // r, 5, 960 // r, 160 // r, True, "HS", 1, d, w)]
        last_channel = _make_divisible(1280 // r * w, 8)
    else:
        setting = [bneck_conf(16, 3, 16, 16, True, "RE", 2, 1, w), bneck_conf(16, 3, 72, 24, False, "RE", 2, 1, w),
                   bneck_conf(24, 3, 88, 24, False, "RE", 1, 1, w), bneck_conf(24, 5, 96, 40, True, "HS", 2, 1, w),
                   bneck_conf(40, 5, 240, 40, True, "HS", 1, 1, w), bneck_conf(40, 5, 240, 40, True, "HS", 1, 1, w),
                   bneck_conf(40, 5, 120, 48, True, "HS", 1, 1, w), bneck_conf(48, 5, 144, 48, True, "HS", 1, 1, w),
                   bneck_conf(48, 5, 288, 96 // r, True, "HS", 2, d, w),
                   bneck_conf(96 // r, 5, 576 // r, 96 // r, True, "HS", 1, d, w),
                   bneck_conf(96 // r, 5, 576 // r, 96 // r, True, "HS", 1, d, w)]
        last_channel = _make_divisible(1024 // r * w, 8)
    return setting, last_channel


def mobilenet_v3_large(*, weights=None, progress=True, pretrained=False, width_mult=1.0, reduced_tail=False,
                       dilated=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    setting, last_channel = _mobilenet_v3_conf("mobilenet_v3_large", width_mult, reduced_tail, dilated)
    return MobileNetV3(setting, last_channel, **kwargs)


def mobilenet_v3_small(*, weights=None, progress=True, pretrained=False, width_mult=1.0, reduced_tail=False,
                       dilated=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    setting, last_channel = _mobilenet_v3_conf("mobilenet_v3_small", width_mult, reduced_tail, dilated)
    return MobileNetV3(setting, last_channel, **kwargs)


# ---- squeezenet.py
class Fire(nn.Module):
    def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)


class SqueezeNet(nn.Module):
    def __init__(self, version="1_0", num_classes=1000, dropout=0.5):
        super().__init__()
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2), nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(512, 64, 256, 256))
        else:
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(64, 16, 64, 64), Fire(128, 16, 64, 64),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(128, 32, 128, 128), Fire(256, 32, 128, 128),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256))
        final_conv = nn.Conv2d(512, num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        x = self.features(x)
        x = self.classifier(x)
        return torch.flatten(x, 1)


def squeezenet1_0(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    return SqueezeNet("1_0", **kwargs)


def squeezenet1_1(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    return SqueezeNet("1_1", **kwargs)


# ---- densenet.py
class _DenseLayer(nn.Module):
    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate, memory_efficient=False):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop_rate = float(drop_rate)

    def forward(self, inputs):
        concated_features = torch.cat(inputs, 1)
        bottleneck_output = self.conv1(self.relu1(self.norm1(concated_features)))
        new_features = self.conv2(self.relu2(self.norm2(bottleneck_output)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class _DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate, memory_efficient=False):
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate=growth_rate, bn_size=bn_size,
                                drop_rate=drop_rate)
            self.add_module("denselayer%d" % (i + 1), layer)

    def forward(self, init_features):
        features = [init_features]
        for name, layer in self.items():
            new_features = layer(features)
            features.append(new_features)
        return torch.cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, num_input_features, num_output_features):
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64, bn_size=4, drop_rate=0,
                 num_classes=1000, memory_efficient=False):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1))]))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers=num_layers, num_input_features=num_features, bn_size=bn_size,
                                growth_rate=growth_rate, drop_rate=drop_rate)
            self.features.add_module("denseblock%d" % (i + 1), block)
            num_features = num_features + num_layers * growth_rate
            if i != len(block_config) - 1:
                trans = _Transition(num_input_features=num_features, num_output_features=num_features // 2)
                self.features.add_module("transition%d" % (i + 1), trans)
                num_features = num_features // 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)

    def forward(self, x):
        features = self.features(x)
        out = F.relu(features, inplace=True)
        out = F.adaptive_avg_pool2d(out, (1, 1))
        out = torch.flatten(out, 1)
        return self.classifier(out)


def _densenet(growth_rate, block_config, num_init_features, weights, pretrained, kwargs):
    _weights(kwargs, weights, pretrained)
    return DenseNet(growth_rate, block_config, num_init_features, **kwargs)


def densenet121(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _densenet(32, (6, 12, 24, 16), 64, weights, pretrained, kwargs)


def densenet161(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _densenet(48, (6, 12, 36, 24), 96, weights, pretrained, kwargs)


def densenet169(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _densenet(32, (6, 12, 32, 32), 64, weights, pretrained, kwargs)


def densenet201(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _densenet(32, (6, 12, 48, 32), 64, weights, pretrained, kwargs)


# ---- efficientnet.py (v1 B0-B7, v2 S/M/L)
class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth: drops whole residual branches while training; traced as model.eval(): x."""
    def __init__(self, p, mode):
        super().__init__()
        self.p = p

    def forward(self, x):
        return x


def mbconv_conf(expand_ratio, kernel, stride, input_channels, out_channels, num_layers, width_mult=1.0,
                depth_mult=1.0):
    # MBConvConfig as a list (the interpreter has no dataclasses): its block class last
    return [expand_ratio, kernel, stride, _make_divisible(input_channels * width_mult, 8),
            _make_divisible(out_channels * width_mult, 8), int(math.ceil(num_layers * depth_mult)), MBConv]


def fused_conf(expand_ratio, kernel, stride, input_channels, out_channels, num_layers):
    # FusedMBConvConfig as a list
    return [expand_ratio, kernel, stride, input_channels, out_channels, num_layers, FusedMBConv]


class MBConv(nn.Module):
    def __init__(self, cnf, stochastic_depth_prob, norm_layer):
        super().__init__()
        expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block = cnf
        self.use_res_connect = stride == 1 and input_channels == out_channels
        layers = []
        expanded_channels = _make_divisible(input_channels * expand_ratio, 8)
        if expanded_channels != input_channels:
            layers.append(Conv2dNormActivation(input_channels, expanded_channels, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded_channels, expanded_channels, kernel_size=kernel, stride=stride,
                                           groups=expanded_channels, norm_layer=norm_layer, activation_layer=nn.SiLU))
        squeeze_channels = max(1, input_channels // 4)
        layers.append(SqueezeExcitation(expanded_channels, squeeze_channels,
                                        activation=functools.partial(nn.SiLU, inplace=True)))
        layers.append(Conv2dNormActivation(expanded_channels, out_channels, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, x):
        result = self.block(x)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += x
        return result


class FusedMBConv(nn.Module):
    def __init__(self, cnf, stochastic_depth_prob, norm_layer):
        super().__init__()
        expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block = cnf
        self.use_res_connect = stride == 1 and input_channels == out_channels
        layers = []
        expanded_channels = _make_divisible(input_channels * expand_ratio, 8)
        if expanded_channels != input_channels:
            layers.append(Conv2dNormActivation(input_channels, expanded_channels, kernel_size=kernel, stride=stride,
                                               norm_layer=norm_layer, activation_layer=nn.SiLU))
            layers.append(Conv2dNormActivation(expanded_channels, out_channels, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=None))
        else:
            layers.append(Conv2dNormActivation(input_channels, out_channels, kernel_size=kernel, stride=stride,
                                               norm_layer=norm_layer, activation_layer=nn.SiLU))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, x):
        result = self.block(x)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += x
        return result


class EfficientNet(nn.Module):
    def __init__(self, inverted_residual_setting, dropout, stochastic_depth_prob=0.2, num_classes=1000,
                 norm_layer=None, last_channel=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        layers = [Conv2dNormActivation(3, inverted_residual_setting[0][3], kernel_size=3, stride=2,
                                       norm_layer=norm_layer, activation_layer=nn.SiLU)]
        total_stage_blocks = sum(cnf[5] for cnf in inverted_residual_setting)
        stage_block_id = 0
        for cnf in inverted_residual_setting:
            stage = []
            for _ in range(cnf[5]):
                block_cnf = list(cnf)
                if stage:
                    block_cnf[3] = block_cnf[4]
                    block_cnf[2] = 1
                sd_prob = stochastic_depth_prob * float(stage_block_id) / total_stage_blocks
                stage.append(cnf[6](block_cnf, sd_prob, norm_layer))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
        lastconv_input_channels = inverted_residual_setting[-1][4]
        lastconv_output_channels = last_channel if last_channel is not None else 4 * lastconv_input_channels
        layers.append(Conv2dNormActivation(lastconv_input_channels, lastconv_output_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True),
                                        nn.Linear(lastconv_output_channels, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def _efficientnet_conf(arch, width_mult=1.0, depth_mult=1.0):
    if arch.startswith("efficientnet_b"):
        w, d = width_mult, depth_mult
        setting = [mbconv_conf(1, 3, 1, 32, 16, 1, w, d), mbconv_conf(6, 3, 2, 16, 24, 2, w, d),
                   mbconv_conf(6, 5, 2, 24, 40, 2, w, d), mbconv_conf(6, 3, 2, 40, 80, 3, w, d),
                   mbconv_conf(6, 5, 1, 80, 112, 3, w, d), mbconv_conf(6, 5, 2, 112, 192, 4, w, d),
                   mbconv_conf(6, 3, 1, 192, 320, 1, w, d)]
        return setting, None
    if arch.startswith("efficientnet_v2_s"):
        setting = [fused_conf(1, 3, 1, 24, 24, 2), fused_conf(4, 3, 2, 24, 48, 4), fused_conf(4, 3, 2, 48, 64, 4),
                   mbconv_conf(4, 3, 2, 64, 128, 6), mbconv_conf(6, 3, 1, 128, 160, 9),
                   mbconv_conf(6, 3, 2, 160, 256, 15)]
    elif arch.startswith("efficientnet_v2_m"):
        setting = [fused_conf(1, 3, 1, 24, 24, 3), fused_conf(4, 3, 2, 24, 48, 5), fused_conf(4, 3, 2, 48, 80, 5),
                   mbconv_conf(4, 3, 2, 80, 160, 7), mbconv_conf(6, 3, 1, 160, 176, 14),
                   mbconv_conf(6, 3, 2, 176, 304, 18), mbconv_conf(6, 3, 1, 304, 512, 5)]
    else:
        setting = [fused_conf(1, 3, 1, 32, 32, 4), fused_conf(4, 3, 2, 32, 64, 7), fused_conf(4, 3, 2, 64, 96, 7),
                   mbconv_conf(4, 3, 2, 96, 192, 10), mbconv_conf(6, 3, 1, 192, 224, 19),
                   mbconv_conf(6, 3, 2, 224, 384, 25), mbconv_conf(6, 3, 1, 384, 640, 7)]
    return setting, 1280


def _efficientnet(arch, width_mult, depth_mult, dropout, weights, pretrained, kwargs, norm_layer=None):
    _weights(kwargs, weights, pretrained)
    setting, last_channel = _efficientnet_conf(arch, width_mult, depth_mult)
    dropout = kwargs.pop("dropout", dropout)
    if norm_layer is not None:
        kwargs["norm_layer"] = norm_layer  # torchvision passes it as a keyword beside **kwargs
    return EfficientNet(setting, dropout, last_channel=last_channel, **kwargs)


def efficientnet_b0(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _efficientnet("efficientnet_b0", 1.0, 1.0, 0.2, weights, pretrained, kwargs)


def efficientnet_b1(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _efficientnet("efficientnet_b1", 1.0, 1.1, 0.2, weights, pretrained, kwargs)


def efficientnet_b2(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _efficientnet("efficientnet_b2", 1.1, 1.2, 0.3, weights, pretrained, kwargs)


def efficientnet_b3(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _efficientnet("efficientnet_b3", 1.2, 1.4, 0.3, weights, pretrained, kwargs)


def efficientnet_b4(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _efficientnet("efficientnet_b4", 1.4, 1.8, 0.4, weights, pretrained, kwargs)


def efficientnet_b5(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _efficientnet("efficientnet_b5", 1.6, 2.2, 0.4, weights, pretrained, kwargs,
                         functools.partial(nn.BatchNorm2d, eps=0.001, momentum=0.01))


def efficientnet_b6(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _efficientnet("efficientnet_b6", 1.8, 2.6, 0.5, weights, pretrained, kwargs,
                         functools.partial(nn.BatchNorm2d, eps=0.001, momentum=0.01))


def efficientnet_b7(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _efficientnet("efficientnet_b7", 2.0, 3.1, 0.5, weights, pretrained, kwargs,
                         functools.partial(nn.BatchNorm2d, eps=0.001, momentum=0.01))


def efficientnet_v2_s(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _efficientnet("efficientnet_v2_s", 1.0, 1.0, 0.2, weights, pretrained, kwargs,
                         functools.partial(nn.BatchNorm2d, eps=1e-03))


def efficientnet_v2_m(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _efficientnet("efficientnet_v2_m", 1.0, 1.0, 0.3, weights, pretrained, kwargs,
                         functools.partial(nn.BatchNorm2d, eps=1e-03))


def efficientnet_v2_l(*, weights=None, progress=True, pretrained=False, **kwargs):
    return _efficientnet("efficientnet_v2_l", 1.0, 1.0, 0.4, weights, pretrained, kwargs,
                         functools.partial(nn.BatchNorm2d, eps=1e-03))


# ---- shufflenetv2.py
def channel_shuffle(x, groups):
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    x = x.view(batchsize, num_channels, height, width)
    return x


class ShuffleInvertedResidual(nn.Module):
    # shufflenetv2.InvertedResidual (renamed: mobilenetv2's has the name here)
    def __init__(self, inp, oup, stride):
        super().__init__()
        if not (1 <= stride <= 3):
            raise ValueError("illegal stride value")
        self.stride = stride
        branch_features = oup // 2
        if (self.stride == 1) and (inp != branch_features << 1):
            raise ValueError("with stride 1, inp must equal oup // 2 << 1")
        if self.stride > 1:
            self.branch1 = nn.Sequential(
                self.depthwise_conv(inp, inp, kernel_size=3, stride=self.stride, padding=1),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch_features, kernel_size=1, stride=1, padding=0, bias=False),
                nn.BatchNorm2d(branch_features),
                nn.ReLU(inplace=True))
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if (self.stride > 1) else branch_features, branch_features, kernel_size=1, stride=1,
                      padding=0, bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
            self.depthwise_conv(branch_features, branch_features, kernel_size=3, stride=self.stride, padding=1),
            nn.BatchNorm2d(branch_features),
            nn.Conv2d(branch_features, branch_features, kernel_size=1, stride=1, padding=0, bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True))

    @staticmethod
    def depthwise_conv(i, o, kernel_size, stride=1, padding=0, bias=False):
        return nn.Conv2d(i, o, kernel_size, stride, padding, bias=bias, groups=i)

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        out = channel_shuffle(out, 2)
        return out


class ShuffleNetV2(nn.Module):
    def __init__(self, stages_repeats, stages_out_channels, num_classes=1000,
                 inverted_residual=ShuffleInvertedResidual):
        super().__init__()
        if len(stages_repeats) != 3:
            raise ValueError("expected stages_repeats as list of 3 positive ints")
        if len(stages_out_channels) != 5:
            raise ValueError("expected stages_out_channels as list of 5 positive ints")
        self._stage_out_channels = stages_out_channels
        input_channels = 3
        output_channels = self._stage_out_channels[0]
        self.conv1 = nn.Sequential(nn.Conv2d(input_channels, output_channels, 3, 2, 1, bias=False),
                                   nn.BatchNorm2d(output_channels), nn.ReLU(inplace=True))
        input_channels = output_channels
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        stage_names = [f"stage{i}" for i in [2, 3, 4]]
        for name, repeats, output_channels in zip(stage_names, stages_repeats, self._stage_out_channels[1:]):
            seq = [inverted_residual(input_channels, output_channels, 2)]
            for i in range(repeats - 1):
                seq.append(inverted_residual(output_channels, output_channels, 1))
            setattr(self, name, nn.Sequential(*seq))
            input_channels = output_channels
        output_channels = self._stage_out_channels[-1]
        self.conv5 = nn.Sequential(nn.Conv2d(input_channels, output_channels, 1, 1, 0, bias=False),
                                   nn.BatchNorm2d(output_channels), nn.ReLU(inplace=True))
        self.fc = nn.Linear(output_channels, num_classes)

    def forward(self, x):
        x = self.conv1(x)
        x = self.maxpool(x)
        x = self.stage2(x)
        x = self.stage3(x)
        x = self.stage4(x)
        x = self.conv5(x)
        x = x.mean([2, 3])
        x = self.fc(x)
        return x


def shufflenet_v2_x0_5(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    return ShuffleNetV2([4, 8, 4], [24, 48, 96, 192, 1024], **kwargs)


def shufflenet_v2_x1_0(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    return ShuffleNetV2([4, 8, 4], [24, 116, 232, 464, 1024], **kwargs)


def shufflenet_v2_x1_5(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    return ShuffleNetV2([4, 8, 4], [24, 176, 352, 704, 1024], **kwargs)


def shufflenet_v2_x2_0(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    return ShuffleNetV2([4, 8, 4], [24, 244, 488, 976, 2048], **kwargs)


# ---- mnasnet.py
_BN_MOMENTUM = 1 - 0.9997


class _MnasInvertedResidual(nn.Module):
    # mnasnet._InvertedResidual (renamed beside mobilenetv2's)
    def __init__(self, in_ch, out_ch, kernel_size, stride, expansion_factor, bn_momentum=0.1):
        super().__init__()
        if stride not in [1, 2]:
            raise ValueError("MNASNet: stride should be 1 or 2")
        if kernel_size not in [3, 5]:
            raise ValueError("MNASNet: kernel_size should be 3 or 5")
        mid_ch = in_ch * expansion_factor
        self.apply_residual = in_ch == out_ch and stride == 1
        self.layers = nn.Sequential(
            nn.Conv2d(in_ch, mid_ch, 1, bias=False),
            nn.BatchNorm2d(mid_ch, momentum=bn_momentum),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_ch, mid_ch, kernel_size, padding=kernel_size // 2, stride=stride, groups=mid_ch, bias=False),
            nn.BatchNorm2d(mid_ch, momentum=bn_momentum),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_ch, out_ch, 1, bias=False),
            nn.BatchNorm2d(out_ch, momentum=bn_momentum))

    def forward(self, input):
        if self.apply_residual:
            return self.layers(input) + input
        else:
            return self.layers(input)


def _stack(in_ch, out_ch, kernel_size, stride, exp_factor, repeats, bn_momentum):
    first = _MnasInvertedResidual(in_ch, out_ch, kernel_size, stride, exp_factor, bn_momentum=bn_momentum)
    remaining = []
    for _ in range(1, repeats):
        remaining.append(_MnasInvertedResidual(out_ch, out_ch, kernel_size, 1, exp_factor, bn_momentum=bn_momentum))
    return nn.Sequential(first, *remaining)


def _round_to_multiple_of(val, divisor, round_up_bias=0.9):
    new_val = max(divisor, int(val + divisor / 2) // divisor * divisor)
    return new_val if new_val >= round_up_bias * val else new_val + divisor


def _get_depths(alpha):
    depths = [32, 16, 24, 40, 80, 96, 192, 320]
    return [_round_to_multiple_of(depth * alpha, 8) for depth in depths]


class MNASNet(nn.Module):
    def __init__(self, alpha, num_classes=1000, dropout=0.2):
        super().__init__()
        if alpha <= 0.0:
            raise ValueError("MNASNet: alpha should be greater than 0.0")
        depths = _get_depths(alpha)
        layers = [
            nn.Conv2d(3, depths[0], 3, padding=1, stride=2, bias=False),
            nn.BatchNorm2d(depths[0], momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
            nn.Conv2d(depths[0], depths[0], 3, padding=1, stride=1, groups=depths[0], bias=False),
            nn.BatchNorm2d(depths[0], momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
            nn.Conv2d(depths[0], depths[1], 1, padding=0, stride=1, bias=False),
            nn.BatchNorm2d(depths[1], momentum=_BN_MOMENTUM),
            _stack(depths[1], depths[2], 3, 2, 3, 3, _BN_MOMENTUM),
            _stack(depths[2], depths[3], 5, 2, 3, 3, _BN_MOMENTUM),
            _stack(depths[3], depths[4], 5, 2, 6, 3, _BN_MOMENTUM),
            _stack(depths[4], depths[5], 3, 1, 6, 2, _BN_MOMENTUM),
            _stack(depths[5], depths[6], 5, 2, 6, 4, _BN_MOMENTUM),
            _stack(depths[6], depths[7], 3, 1, 6, 1, _BN_MOMENTUM),
            nn.Conv2d(depths[7], 1280, 1, padding=0, stride=1, bias=False),
            nn.BatchNorm2d(1280, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True)]
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(1280, num_classes))

    def forward(self, x):
        x = self.layers(x)
        x = x.mean([2, 3])
        return self.classifier(x)


def mnasnet0_5(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    return MNASNet(0.5, **kwargs)


def mnasnet0_75(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    return MNASNet(0.75, **kwargs)


def mnasnet1_0(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    return MNASNet(1.0, **kwargs)


def mnasnet1_3(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    return MNASNet(1.3, **kwargs)


# ---- googlenet.py and inception.py: the auxiliary classifiers (aux_logits=True) run only in training; traced in eval
# mode they get no rows, and Convscope counts parameters by rows, so it would miss theirs: refused, naming the fix
# (with weights torchvision drops them after loading unless aux_logits=True was asked for, as here)

class BasicConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        x = self.conv(x)
        x = self.bn(x)
        return F.relu(x, inplace=True)


def _transform_input(x, transform_input):
    # GoogLeNet._transform_input / Inception3._transform_input (the same code in both)
    if transform_input:
        x_ch0 = torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
        x_ch1 = torch.unsqueeze(x[:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5
        x_ch2 = torch.unsqueeze(x[:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5
        x = torch.cat((x_ch0, x_ch1, x_ch2), 1)
    return x


class GoogLeNetInception(nn.Module):
    # googlenet.Inception (renamed beside inception.py's blocks)
    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, conv_block=None):
        super().__init__()
        if conv_block is None:
            conv_block = BasicConv2d
        self.branch1 = conv_block(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(conv_block(in_channels, ch3x3red, kernel_size=1),
                                     conv_block(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(conv_block(in_channels, ch5x5red, kernel_size=1),
                                     conv_block(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                                     conv_block(in_channels, pool_proj, kernel_size=1))

    def forward(self, x):
        branch1 = self.branch1(x)
        branch2 = self.branch2(x)
        branch3 = self.branch3(x)
        branch4 = self.branch4(x)
        outputs = [branch1, branch2, branch3, branch4]
        return torch.cat(outputs, 1)


class GoogLeNet(nn.Module):
    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False, init_weights=None, blocks=None,
                 dropout=0.2, dropout_aux=0.7):
        super().__init__()
        if aux_logits:
            raise ValueError("Convscope traces eval mode, where the auxiliary classifiers (aux_logits=True) "
                             "never run and their parameters would be missing from the total: pass aux_logits=False")
        self.transform_input = transform_input
        conv_block = BasicConv2d
        inception_block = GoogLeNetInception
        self.conv1 = conv_block(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = conv_block(64, 64, kernel_size=1)
        self.conv3 = conv_block(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = inception_block(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = inception_block(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = inception_block(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = inception_block(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = inception_block(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = inception_block(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = inception_block(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = inception_block(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = inception_block(832, 384, 192, 384, 48, 128, 128)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = _transform_input(x, self.transform_input)
        x = self.conv1(x)
        x = self.maxpool1(x)
        x = self.conv2(x)
        x = self.conv3(x)
        x = self.maxpool2(x)
        x = self.inception3a(x)
        x = self.inception3b(x)
        x = self.maxpool3(x)
        x = self.inception4a(x)
        x = self.inception4b(x)
        x = self.inception4c(x)
        x = self.inception4d(x)
        x = self.inception4e(x)
        x = self.maxpool4(x)
        x = self.inception5a(x)
        x = self.inception5b(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        return self.fc(x)


def googlenet(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    original_aux_logits = kwargs.get("aux_logits", False)
    if weights is not None or pretrained:
        if "transform_input" not in kwargs:
            kwargs["transform_input"] = True
        if kwargs.get("aux_logits", True) is not True:
            raise ValueError("with pretrained weights, aux_logits must be True or left out")
        if original_aux_logits:
            raise ValueError("Convscope traces eval mode, where the auxiliary classifiers (aux_logits=True) "
                             "never run and their parameters would be missing from the total: pass aux_logits=False")
        kwargs["aux_logits"] = False  # torchvision builds them to load the weights, then drops them
    return GoogLeNet(**kwargs)


class InceptionA(nn.Module):
    def __init__(self, in_channels, pool_features, conv_block=None):
        super().__init__()
        if conv_block is None:
            conv_block = BasicConv2d
        self.branch1x1 = conv_block(in_channels, 64, kernel_size=1)
        self.branch5x5_1 = conv_block(in_channels, 48, kernel_size=1)
        self.branch5x5_2 = conv_block(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = conv_block(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = conv_block(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = conv_block(96, 96, kernel_size=3, padding=1)
        self.branch_pool = conv_block(in_channels, pool_features, kernel_size=1)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_1(x)
        branch5x5 = self.branch5x5_2(branch5x5)
        branch3x3dbl = self.branch3x3dbl_1(x)
        branch3x3dbl = self.branch3x3dbl_2(branch3x3dbl)
        branch3x3dbl = self.branch3x3dbl_3(branch3x3dbl)
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
        branch_pool = self.branch_pool(branch_pool)
        outputs = [branch1x1, branch5x5, branch3x3dbl, branch_pool]
        return torch.cat(outputs, 1)


class InceptionB(nn.Module):
    def __init__(self, in_channels, conv_block=None):
        super().__init__()
        if conv_block is None:
            conv_block = BasicConv2d
        self.branch3x3 = conv_block(in_channels, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = conv_block(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = conv_block(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = conv_block(96, 96, kernel_size=3, stride=2)

    def forward(self, x):
        branch3x3 = self.branch3x3(x)
        branch3x3dbl = self.branch3x3dbl_1(x)
        branch3x3dbl = self.branch3x3dbl_2(branch3x3dbl)
        branch3x3dbl = self.branch3x3dbl_3(branch3x3dbl)
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        outputs = [branch3x3, branch3x3dbl, branch_pool]
        return torch.cat(outputs, 1)


class InceptionC(nn.Module):
    def __init__(self, in_channels, channels_7x7, conv_block=None):
        super().__init__()
        if conv_block is None:
            conv_block = BasicConv2d
        self.branch1x1 = conv_block(in_channels, 192, kernel_size=1)
        c7 = channels_7x7
        self.branch7x7_1 = conv_block(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = conv_block(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = conv_block(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = conv_block(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = conv_block(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = conv_block(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = conv_block(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = conv_block(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = conv_block(in_channels, 192, kernel_size=1)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch7x7 = self.branch7x7_1(x)
        branch7x7 = self.branch7x7_2(branch7x7)
        branch7x7 = self.branch7x7_3(branch7x7)
        branch7x7dbl = self.branch7x7dbl_1(x)
        branch7x7dbl = self.branch7x7dbl_2(branch7x7dbl)
        branch7x7dbl = self.branch7x7dbl_3(branch7x7dbl)
        branch7x7dbl = self.branch7x7dbl_4(branch7x7dbl)
        branch7x7dbl = self.branch7x7dbl_5(branch7x7dbl)
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
        branch_pool = self.branch_pool(branch_pool)
        outputs = [branch1x1, branch7x7, branch7x7dbl, branch_pool]
        return torch.cat(outputs, 1)


class InceptionD(nn.Module):
    def __init__(self, in_channels, conv_block=None):
        super().__init__()
        if conv_block is None:
            conv_block = BasicConv2d
        self.branch3x3_1 = conv_block(in_channels, 192, kernel_size=1)
        self.branch3x3_2 = conv_block(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = conv_block(in_channels, 192, kernel_size=1)
        self.branch7x7x3_2 = conv_block(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = conv_block(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = conv_block(192, 192, kernel_size=3, stride=2)

    def forward(self, x):
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = self.branch3x3_2(branch3x3)
        branch7x7x3 = self.branch7x7x3_1(x)
        branch7x7x3 = self.branch7x7x3_2(branch7x7x3)
        branch7x7x3 = self.branch7x7x3_3(branch7x7x3)
        branch7x7x3 = self.branch7x7x3_4(branch7x7x3)
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        outputs = [branch3x3, branch7x7x3, branch_pool]
        return torch.cat(outputs, 1)


class InceptionE(nn.Module):
    def __init__(self, in_channels, conv_block=None):
        super().__init__()
        if conv_block is None:
            conv_block = BasicConv2d
        self.branch1x1 = conv_block(in_channels, 320, kernel_size=1)
        self.branch3x3_1 = conv_block(in_channels, 384, kernel_size=1)
        self.branch3x3_2a = conv_block(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = conv_block(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = conv_block(in_channels, 448, kernel_size=1)
        self.branch3x3dbl_2 = conv_block(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = conv_block(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = conv_block(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = conv_block(in_channels, 192, kernel_size=1)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = [self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3)]
        branch3x3 = torch.cat(branch3x3, 1)
        branch3x3dbl = self.branch3x3dbl_1(x)
        branch3x3dbl = self.branch3x3dbl_2(branch3x3dbl)
        branch3x3dbl = [self.branch3x3dbl_3a(branch3x3dbl), self.branch3x3dbl_3b(branch3x3dbl)]
        branch3x3dbl = torch.cat(branch3x3dbl, 1)
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
        branch_pool = self.branch_pool(branch_pool)
        outputs = [branch1x1, branch3x3, branch3x3dbl, branch_pool]
        return torch.cat(outputs, 1)


class Inception3(nn.Module):
    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False, inception_blocks=None,
                 init_weights=None, dropout=0.5):
        super().__init__()
        if aux_logits:
            raise ValueError("Convscope traces eval mode, where the auxiliary classifiers (aux_logits=True) "
                             "never run and their parameters would be missing from the total: pass aux_logits=False")
        conv_block = BasicConv2d
        self.transform_input = transform_input
        self.Conv2d_1a_3x3 = conv_block(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = conv_block(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = conv_block(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = conv_block(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = conv_block(80, 192, kernel_size=3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280)
        self.Mixed_7c = InceptionE(2048)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x):
        x = _transform_input(x, self.transform_input)
        x = self.Conv2d_1a_3x3(x)
        x = self.Conv2d_2a_3x3(x)
        x = self.Conv2d_2b_3x3(x)
        x = self.maxpool1(x)
        x = self.Conv2d_3b_1x1(x)
        x = self.Conv2d_4a_3x3(x)
        x = self.maxpool2(x)
        x = self.Mixed_5b(x)
        x = self.Mixed_5c(x)
        x = self.Mixed_5d(x)
        x = self.Mixed_6a(x)
        x = self.Mixed_6b(x)
        x = self.Mixed_6c(x)
        x = self.Mixed_6d(x)
        x = self.Mixed_6e(x)
        x = self.Mixed_7a(x)
        x = self.Mixed_7b(x)
        x = self.Mixed_7c(x)
        x = self.avgpool(x)
        x = self.dropout(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def inception_v3(*, weights=None, progress=True, pretrained=False, **kwargs):
    _weights(kwargs, weights, pretrained)
    original_aux_logits = kwargs.get("aux_logits", True)
    if weights is not None or pretrained:
        if "transform_input" not in kwargs:
            kwargs["transform_input"] = True
        if kwargs.get("aux_logits", True) is not True:
            raise ValueError("with pretrained weights, aux_logits must be True or left out")
        if original_aux_logits:
            raise ValueError("Convscope traces eval mode, where the auxiliary classifiers (aux_logits=True) "
                             "never run and their parameters would be missing from the total: pass aux_logits=False")
        kwargs["aux_logits"] = False  # torchvision builds them to load the weights, then drops them
    return Inception3(**kwargs)


# ---- regnet.py (SimpleStemIN, BottleneckTransform and AnyStage are nn.Sequential subclasses there, functions returning
# the same nn.Sequential here; BlockParams is a list, from_init_params a function)
def SimpleStemIN(width_in, width_out, norm_layer, activation_layer):
    return Conv2dNormActivation(width_in, width_out, kernel_size=3, stride=2, norm_layer=norm_layer,
                                activation_layer=activation_layer)


def BottleneckTransform(width_in, width_out, stride, norm_layer, activation_layer, group_width, bottleneck_multiplier,
                        se_ratio):
    layers = OrderedDict()
    w_b = int(round(width_out * bottleneck_multiplier))
    g = w_b // group_width
    layers["a"] = Conv2dNormActivation(width_in, w_b, kernel_size=1, stride=1, norm_layer=norm_layer,
                                       activation_layer=activation_layer)
    layers["b"] = Conv2dNormActivation(w_b, w_b, kernel_size=3, stride=stride, groups=g, norm_layer=norm_layer,
                                       activation_layer=activation_layer)
    if se_ratio:
        width_se_out = int(round(se_ratio * width_in))
        layers["se"] = SqueezeExcitation(input_channels=w_b, squeeze_channels=width_se_out,
                                         activation=activation_layer)
    layers["c"] = Conv2dNormActivation(w_b, width_out, kernel_size=1, stride=1, norm_layer=norm_layer,
                                       activation_layer=None)
    return nn.Sequential(layers)


class ResBottleneckBlock(nn.Module):
    def __init__(self, width_in, width_out, stride, norm_layer, activation_layer, group_width=1,
                 bottleneck_multiplier=1.0, se_ratio=None):
        super().__init__()
        self.proj = None
        should_proj = (width_in != width_out) or (stride != 1)
        if should_proj:
            self.proj = Conv2dNormActivation(width_in, width_out, kernel_size=1, stride=stride, norm_layer=norm_layer,
                                             activation_layer=None)
        self.f = BottleneckTransform(width_in, width_out, stride, norm_layer, activation_layer, group_width,
                                     bottleneck_multiplier, se_ratio)
        self.activation = activation_layer(inplace=True)

    def forward(self, x):
        if self.proj is not None:
            x = self.proj(x) + self.f(x)
        else:
            x = x + self.f(x)
        return self.activation(x)


def AnyStage(width_in, width_out, stride, depth, block_constructor, norm_layer, activation_layer, group_width,
             bottleneck_multiplier, se_ratio=None, stage_index=0):
    blocks = OrderedDict()
    for i in range(depth):
        blocks[f"block{stage_index}-{i}"] = block_constructor(
            width_in if i == 0 else width_out, width_out, stride if i == 0 else 1, norm_layer, activation_layer,
            group_width, bottleneck_multiplier, se_ratio)
    return nn.Sequential(blocks)


def block_params_from_init_params(depth, w_0, w_a, w_m, group_width, bottleneck_multiplier=1.0, se_ratio=None,
                                  **kwargs):
    # BlockParams.from_init_params; torch's float32 arange/log/pow/round written with Python's floats (checked to give
    # the same block widths for all 15 regnet_* configurations of torchvision 0.29)
    QUANT = 8
    STRIDE = 2
    if w_a < 0 or w_0 <= 0 or w_m <= 1 or w_0 % 8 != 0:
        raise ValueError("Invalid RegNet settings")
    widths_cont = [i * w_a + w_0 for i in range(depth)]
    block_capacity = [round(math.log(w / w_0) / math.log(w_m)) for w in widths_cont]
    block_widths = [int(round(w_0 * w_m ** c / QUANT) * QUANT) for c in block_capacity]
    num_stages = len([w for i, w in enumerate(block_widths) if w not in block_widths[:i]])  # len(set(block_widths))
    split_helper = zip(block_widths + [0], [0] + block_widths, block_widths + [0], [0] + block_widths)
    splits = [w != wp or r != rp for w, wp, r, rp in split_helper]
    stage_widths = [w for w, t in zip(block_widths, splits[:-1]) if t]
    ends = [d for d, t in enumerate(splits) if t]
    stage_depths = [b - a for a, b in zip(ends[:-1], ends[1:])]
    strides = [STRIDE] * num_stages
    bottleneck_multipliers = [bottleneck_multiplier] * num_stages
    group_widths = [group_width] * num_stages
    widths = [int(w * b) for w, b in zip(stage_widths, bottleneck_multipliers)]
    group_widths_min = [min(g, w_bot) for g, w_bot in zip(group_widths, widths)]
    ws_bot = [_make_divisible(w_bot, g) for w_bot, g in zip(widths, group_widths_min)]
    stage_widths = [int(w_bot / b) for w_bot, b in zip(ws_bot, bottleneck_multipliers)]
    return [stage_depths, stage_widths, group_widths_min, bottleneck_multipliers, strides, se_ratio]


class RegNet(nn.Module):
    def __init__(self, block_params, num_classes=1000, stem_width=32, stem_type=None, block_type=None,
                 norm_layer=None, activation=None):
        super().__init__()
        if stem_type is None:
            stem_type = SimpleStemIN
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if block_type is None:
            block_type = ResBottleneckBlock
        if activation is None:
            activation = nn.ReLU
        self.stem = stem_type(3, stem_width, norm_layer, activation)
        current_width = stem_width
        blocks = []
        depths, widths, group_widths, bottleneck_multipliers, strides, se_ratio = block_params
        expanded = zip(widths, strides, depths, group_widths, bottleneck_multipliers)
        for i, (width_out, stride, depth, group_width, bottleneck_multiplier) in enumerate(expanded):
            blocks.append((f"block{i + 1}", AnyStage(current_width, width_out, stride, depth, block_type, norm_layer,
                                                     activation, group_width, bottleneck_multiplier, se_ratio,
                                                     stage_index=i + 1)))
            current_width = width_out
        self.trunk_output = nn.Sequential(OrderedDict(blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(in_features=current_width, out_features=num_classes)

    def forward(self, x):
        x = self.stem(x)
        x = self.trunk_output(x)
        x = self.avgpool(x)
        x = x.flatten(start_dim=1)
        x = self.fc(x)
        return x


def _regnet(block_params, weights, pretrained, kwargs):
    _weights(kwargs, weights, pretrained)
    norm_layer = kwargs.pop("norm_layer", functools.partial(nn.BatchNorm2d, eps=1e-05, momentum=0.1))
    return RegNet(block_params, norm_layer=norm_layer, **kwargs)


def regnet_y_400mf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=16, w_0=48, w_a=27.89, w_m=2.09,
                                           group_width=8, se_ratio=0.25, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_y_800mf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=14, w_0=56, w_a=38.84, w_m=2.4,
                                           group_width=16, se_ratio=0.25, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_y_1_6gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=27, w_0=48, w_a=20.71, w_m=2.65,
                                           group_width=24, se_ratio=0.25, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_y_3_2gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=21, w_0=80, w_a=42.63, w_m=2.66,
                                           group_width=24, se_ratio=0.25, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_y_8gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=17, w_0=192, w_a=76.82, w_m=2.19,
                                           group_width=56, se_ratio=0.25, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_y_16gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=18, w_0=200, w_a=106.23, w_m=2.48,
                                           group_width=112, se_ratio=0.25, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_y_32gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=20, w_0=232, w_a=115.89, w_m=2.53,
                                           group_width=232, se_ratio=0.25, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_y_128gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=27, w_0=456, w_a=160.83, w_m=2.52,
                                           group_width=264, se_ratio=0.25, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_x_400mf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=22, w_0=24, w_a=24.48, w_m=2.54, group_width=16, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_x_800mf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=16, w_0=56, w_a=35.73, w_m=2.28, group_width=16, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_x_1_6gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=18, w_0=80, w_a=34.01, w_m=2.25, group_width=24, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_x_3_2gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=25, w_0=88, w_a=26.31, w_m=2.25, group_width=48, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_x_8gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=23, w_0=80, w_a=49.56, w_m=2.88, group_width=120, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_x_16gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=22, w_0=216, w_a=55.59, w_m=2.1, group_width=128, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)


def regnet_x_32gf(*, weights=None, progress=True, pretrained=False, **kwargs):
    params = block_params_from_init_params(depth=23, w_0=320, w_a=69.86, w_m=2.0, group_width=168, **kwargs)
    return _regnet(params, weights, pretrained, kwargs)
'''
