"""GAN, WGAN and WGAN-GP training written as PyTorch users write it (the DCGAN example, the
original WGAN code, caogang/wgan-gp), on a tiny 2-D data set, with MLP models.

Only the import block below names minigrad. ``test_pytorch_style_gans.py`` runs this file
as it is, and again with ``minigrad`` replaced by ``torch`` in that block, from the same
weights, and compares the losses. Randomness comes from NumPy (noise, data, the penalty's
interpolation), so both runs see the same numbers; ``weights_init`` draws with each
framework's own generator, and the test then copies one model's weights into the other.
"""
# --- imports: the only lines that differ between minigrad and PyTorch ---
import minigrad as torch
import minigrad.backends.cudnn as cudnn
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad import autograd
from minigrad.autograd import Variable
# --- end of imports ---
import numpy as np

NZ = 4
HIDDEN = 16
BATCH = 8
LAMBDA = 10.0

cudnn.benchmark = True
use_cuda = torch.cuda.is_available()
gpu = 0
device = torch.device("cuda:0" if use_cuda else "cpu")
Tensor = torch.cuda.FloatTensor if use_cuda else torch.FloatTensor


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Linear") != -1:
        m.weight.data.normal_(0.0, 0.02)
        m.bias.data.zero_()
    elif classname.find("BatchNorm") != -1:
        m.weight.data.normal_(1.0, 0.02)
        m.bias.data.fill_(0)


class Generator(nn.Module):
    def __init__(self, ngpu, batch_norm=True):
        super(Generator, self).__init__()
        self.ngpu = ngpu
        layers = [nn.Linear(NZ, HIDDEN)]
        if batch_norm:
            layers.append(nn.BatchNorm1d(HIDDEN))
        layers += [nn.ReLU(True), nn.Linear(HIDDEN, 2)]
        self.main = nn.Sequential(*layers)

    def forward(self, input):
        if input.is_cuda and self.ngpu > 1:
            output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        else:
            output = self.main(input)
        return output


class Discriminator(nn.Module):
    def __init__(self, sigmoid=False, activation=None):
        super(Discriminator, self).__init__()
        activation = activation or nn.LeakyReLU(0.2, inplace=True)
        layers = [nn.Flatten(), nn.Linear(2, HIDDEN), activation, nn.Linear(HIDDEN, 1)]
        if sigmoid:
            layers.append(nn.Sigmoid())
        self.main = nn.Sequential(*layers)

    def forward(self, input):
        return self.main(input).view(-1)


def real_batches(rng):
    """Batches of the 8-Gaussians toy set, as float64 NumPy arrays."""
    centers = np.array([(np.cos(a), np.sin(a)) for a in np.arange(8) * np.pi / 4]) * 2.0
    while True:
        picked = centers[rng.integers(0, 8, BATCH)]
        yield picked + 0.05 * rng.standard_normal((BATCH, 2))


def build(kind):
    """(netG, netD) for 'gan', 'wgan' or 'wgan-gp', initialised with weights_init."""
    netG = Generator(ngpu=1, batch_norm=kind == "gan")
    # WGAN's critic is tanh: with clipped weights a piecewise-linear unit is often linear on the
    # whole batch, and then its gradient, real minus fake, is zero up to rounding, which
    # RMSprop's normalised step turns into a full step of either sign
    netD = Discriminator(sigmoid=kind == "gan", activation=nn.Tanh() if kind == "wgan" else None)
    if kind == "gan":
        netD = nn.DataParallel(netD)
    netG.apply(weights_init)
    netD.apply(weights_init)
    return netG.to(device), netD.to(device)


def train_gan(netG, netD, steps, seed, workdir):
    """The DCGAN example's loop: BCELoss, real label 1, fake label 0."""
    rng = np.random.default_rng(seed)
    data = real_batches(rng)
    criterion = nn.BCELoss()
    real_label, fake_label = 1.0, 0.0
    optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    schedulerG = optim.lr_scheduler.StepLR(optimizerG, step_size=2, gamma=0.5)
    losses = []
    for step in range(steps):
        ############################
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        ###########################
        netD.zero_grad()
        real = torch.from_numpy(next(data)).type(Tensor).to(device)
        b_size = real.size(0)
        label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
        output = netD(real).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        noise = torch.Tensor(rng.standard_normal((b_size, NZ))).to(device)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        ############################
        # (2) Update G network: maximize log(D(G(z)))
        ###########################
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        grad_norm = nn.utils.clip_grad_norm_(netG.parameters(), max_norm=1.0)
        D_G_z2 = output.mean().item()
        optimizerG.step()
        schedulerG.step()
        losses.append([errD.item(), errG.item(), D_x, D_G_z1, D_G_z2, grad_norm.item()])
    torch.save(netG.state_dict(), f"{workdir}/netG_gan.pth")
    return losses


def train_wgan(netG, netD, steps, seed, workdir, n_critic=2, clamp=0.1):
    """The original WGAN code's loop: RMSprop, weight clipping, backward(one) / backward(mone)."""
    rng = np.random.default_rng(seed)
    data = real_batches(rng)
    optimizerD = optim.RMSprop(netD.parameters(), lr=5e-4)
    optimizerG = optim.RMSprop(netG.parameters(), lr=5e-4)
    one = torch.FloatTensor([1])
    mone = one * -1
    losses = []
    for step in range(steps):
        for p in netD.parameters():
            p.requires_grad = True
        for _ in range(n_critic):
            for p in netD.parameters():
                p.data.clamp_(-clamp, clamp)
            netD.zero_grad()
            real = Variable(torch.from_numpy(next(data)).type(Tensor))
            errD_real = netD(real).mean(0).view(1)
            errD_real.backward(one)
            noise = torch.FloatTensor(BATCH, NZ)
            noise.copy_(torch.from_numpy(rng.standard_normal((BATCH, NZ))))
            with torch.no_grad():
                noisev = Variable(noise)
            fake = Variable(netG(noisev).data)
            errD_fake = netD(fake).mean(0).view(1)
            errD_fake.backward(mone)
            errD = errD_real - errD_fake
            optimizerD.step()
        for p in netD.parameters():
            p.requires_grad = False
        netG.zero_grad()
        noise = torch.Tensor(rng.standard_normal((BATCH, NZ)))
        errG = netD(netG(noise)).mean(0).view(1)
        errG.backward(one)
        optimizerG.step()
        losses.append([float(errD.data.numpy()[0]), float(errG.data.numpy()[0])])
    return losses


def calc_gradient_penalty(netD, real_data, fake_data, rng):
    alpha = torch.FloatTensor(rng.uniform(size=(real_data.size(0), 1)))
    alpha = alpha.expand(real_data.size())
    alpha = alpha.cuda(gpu) if use_cuda else alpha

    interpolates = alpha * real_data + ((1 - alpha) * fake_data)
    if use_cuda:
        interpolates = interpolates.cuda(gpu)
    interpolates = autograd.Variable(interpolates, requires_grad=True)
    disc_interpolates = netD(interpolates)

    gradients = autograd.grad(outputs=disc_interpolates, inputs=interpolates,
                              grad_outputs=torch.ones(disc_interpolates.size()).cuda(gpu) if use_cuda
                              else torch.ones(disc_interpolates.size()),
                              create_graph=True, retain_graph=True, only_inputs=True)[0]
    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * LAMBDA
    return gradient_penalty


def train_wgan_gp(netG, netD, steps, seed, workdir, n_critic=2):
    """caogang/wgan-gp's loop: Adam(0.5, 0.9), the penalty on real.data and fake.data, and the
    paper's CIFAR-10 schedule, the rate decayed linearly to 0."""
    rng = np.random.default_rng(seed)
    data = real_batches(rng)
    optimizerD = optim.Adam(netD.parameters(), lr=1e-3, betas=(0.5, 0.9))
    optimizerG = optim.Adam(netG.parameters(), lr=1e-3, betas=(0.5, 0.9))
    schedulers = [optim.lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=steps)
                  for opt in (optimizerD, optimizerG)]
    losses = []
    for iteration in range(steps):
        for p in netD.parameters():
            p.requires_grad = True
        for _ in range(n_critic):
            real_data = torch.Tensor(next(data)).to(device)
            netD.zero_grad()
            D_real = netD(real_data).mean()
            noise = torch.Tensor(rng.standard_normal((BATCH, NZ))).to(device)
            fake = netG(noise).detach()
            D_fake = netD(fake).mean()
            gradient_penalty = calc_gradient_penalty(netD, real_data.data, fake.data, rng)
            D_cost = D_fake - D_real + gradient_penalty
            D_cost.backward()
            Wasserstein_D = D_real - D_fake
            optimizerD.step()
        for p in netD.parameters():
            p.requires_grad = False
        netG.zero_grad()
        noise = torch.Tensor(rng.standard_normal((BATCH, NZ))).to(device)
        G_cost = -netD(netG(noise)).mean()
        G_cost.backward()
        optimizerG.step()
        for scheduler in schedulers:
            scheduler.step()
        losses.append([D_cost.cpu().data.numpy().item(), G_cost.cpu().data.numpy().item(),
                       Wasserstein_D.item(), gradient_penalty.item()])
    torch.save(netD.state_dict(), f"{workdir}/netD_wgan_gp.pth")
    netD.load_state_dict(torch.load(f"{workdir}/netD_wgan_gp.pth"))
    return losses


TRAIN = {"gan": train_gan, "wgan": train_wgan, "wgan-gp": train_wgan_gp}


def sample(netG, n, seed):
    """n generated points, as a NumPy array (``x.data.numpy()``)."""
    netG.eval()
    noise = torch.Tensor(np.random.default_rng(seed).standard_normal((n, NZ)))
    with torch.no_grad():
        points = netG(noise).data.cpu().numpy()
    netG.train()
    return points


def binary_loss_check(probabilities, targets):
    """F.binary_cross_entropy on the functional side, as scripts use it for logging."""
    return F.binary_cross_entropy(torch.Tensor(probabilities), torch.Tensor(targets)).item()
