import LoomCore

/// `training` block of the IR.
public struct TrainingSpec: Equatable, Sendable {
    public var loss: LossKind
    public var optimizer: OptimizerSpec
    public var scheduler: SchedulerSpec
    public var epochs: Int
    public var batchSize: Int
    public var shuffle: Bool
    /// Share of the samples held out for validation (taken from a seeded permutation).
    public var validationSplit: Double
    /// Stop when the monitored loss (validation if any, else training) has not improved by more
    /// than `minDelta` for `patience` epochs.
    public var earlyStopping: EarlyStopping?
    public var clip: GradientClip?
    /// Parameters kept as they are by every optimizer step: name prefixes, each a whole path
    /// component ("layers.0.branches.1" freezes "layers.0.branches.1.layers.0.weight", …). Applied
    /// when the network is built from an IR with this block (`Network.init`), so a saved model
    /// keeps them.
    public var freeze: [String] = []

    public struct EarlyStopping: Equatable, Sendable {
        public var patience: Int
        public var minDelta: Double
        public init(patience: Int, minDelta: Double) { self.patience = patience; self.minDelta = minDelta }
    }

    public init(loss: LossKind = .crossEntropy,
                optimizer: OptimizerSpec = .adamw(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01),
                scheduler: SchedulerSpec = .constant, epochs: Int = 10, batchSize: Int = 32, shuffle: Bool = true,
                validationSplit: Double = 0, earlyStopping: EarlyStopping? = nil, clip: GradientClip? = nil, freeze: [String] = []) {
        self.loss = loss; self.optimizer = optimizer; self.scheduler = scheduler; self.epochs = epochs
        self.batchSize = batchSize; self.shuffle = shuffle; self.validationSplit = validationSplit
        self.earlyStopping = earlyStopping; self.clip = clip; self.freeze = freeze
    }
}

public struct EpochReport: Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double?
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var learningRate: Double
    public var steps: Int
}

public struct BatchProgress: Sendable {
    public var epoch: Int, epochs: Int
    public var batch: Int, batches: Int
    public var loss: Double
}

public struct TrainingHistory: Sendable {
    public var epochs: [EpochReport] = []
    public var stoppedEarly = false
    public var bestEpoch = 0
}

/// Mini-batch training: seeded shuffling, validation split, clipping, scheduler, early stopping.
///
/// Deterministic: the sample order of epoch e is `Philox(seed).permutation(n, stream:
/// StreamID.of("shuffle", e))`; the validation set is the tail of the permutation on stream
/// `StreamID.of("split")`. Thread count never changes any result.
public final class Trainer<T: LoomFloat> {
    public let network: Network<T>
    public let spec: TrainingSpec
    public let optimizer: Optimizer<T>
    public let context: ComputeContext
    public private(set) var globalStep = 0
    /// When set, steps run there (device-resident; see `TrainingAccelerator`), bit-identical.
    public var accelerator: TrainingAccelerator<T>? = nil

    /// After accelerated steps: brings the parameters, gradients and optimizer state back into
    /// `network` and `optimizer` (a no-op without an accelerator).
    public func synchronize() throws(LoomError) {
        try accelerator?.synchronize(optimizer: optimizer)
    }

    public init(network: Network<T>, spec: TrainingSpec, context: ComputeContext, optimizer: Optimizer<T>? = nil) {
        self.network = network
        self.spec = spec
        self.context = context
        self.optimizer = optimizer ?? Optimizer(spec.optimizer)
        self.globalStep = self.optimizer.stepCount
    }

    /// One optimizer step on one batch; returns the batch loss.
    @discardableResult
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func step(_ x: Tensor<T>, _ t: Tensor<T>) throws(LoomError) -> (loss: T, output: Tensor<T>) {
        if network.spec.dtype == .f16 && optimizer.lossScale == nil { optimizer.lossScale = LossScale() }
        let scale = T(optimizer.lossScale?.scale ?? 1)
        let r = if let acc = accelerator {
            try acc.computeGradients(x, t, loss: spec.loss, step: UInt64(globalStep), gradientScale: scale)
        } else {
            try network.computeGradients(x, target: t, loss: spec.loss, context: context, step: UInt64(globalStep), gradientScale: scale)
        }
        guard r.loss.isFinite else {
            throw LoomError(.nonFinite, "training step \(globalStep)", "the loss became \(r.loss.double); lower the learning rate or clip gradients")
        }
        if optimizer.lossScale != nil {
            let taken = if let acc = accelerator { try acc.unscale(&optimizer.lossScale!) } else { optimizer.lossScale!.unscale(network.params) }
            if !taken {
                globalStep += 1   // f16 overflow: the step is skipped and the loss scale halved
                return r
            }
        }
        let lr = spec.scheduler.lr(base: spec.optimizer.lr, step: globalStep)
        if let acc = accelerator {
            try acc.update(clip: spec.clip, optimizer: optimizer, lr: lr)
        } else {
            if let c = spec.clip { c.apply(network.params) }
            optimizer.step(network.params, lr: lr, context: context)
        }
        globalStep += 1
        return r
    }

    /// Splits samples into (train, validation) index lists.
    public func split(_ n: Int) -> (train: [Int], validation: [Int]) {
        let nVal = Int(Double(n) * spec.validationSplit)
        if nVal <= 0 { return (Array(0..<n), []) }
        let perm = Philox(seed: network.spec.seed).permutation(n, stream: StreamID.of("split"))
        return (Array(perm[0..<(n - nVal)]).sorted(), Array(perm[(n - nVal)...]).sorted())
    }

    public func fit(inputs: Tensor<T>, targets: Tensor<T>,
                    progress: ((BatchProgress) -> Void)? = nil,
                    epochEnd: ((EpochReport) -> Void)? = nil) throws(LoomError) -> TrainingHistory {
        guard inputs.batch == targets.batch else {
            throw LoomError(.shapeMismatch, "targets", "\(targets.batch) targets for \(inputs.batch) samples")
        }
        guard spec.batchSize > 0 else { throw LoomError(.invalidIR, "training.batch_size", "must be positive") }
        let (trainIdx, valIdx) = split(inputs.batch)
        guard !trainIdx.isEmpty else { throw LoomError(.invalidInput, "data", "no training samples") }
        var history = TrainingHistory()
        var best = Double.infinity
        var sinceBest = 0
        let rng = Philox(seed: network.spec.seed)
        for epoch in 0..<spec.epochs {
            var order = trainIdx
            if spec.shuffle {
                let p = rng.permutation(trainIdx.count, stream: StreamID.of("shuffle", UInt64(epoch)))
                order = p.map { trainIdx[$0] }
            }
            let batches = (order.count + spec.batchSize - 1) / spec.batchSize
            var lossSum = 0.0, correct = 0, counted = 0
            for b in 0..<batches {
                let idx = Array(order[(b * spec.batchSize)..<Swift.min(order.count, (b + 1) * spec.batchSize)])
                let x = inputs.gather(batch: idx), t = targets.gather(batch: idx)
                let (l, y) = try step(x, t)
                lossSum += l.double * Double(idx.count)
                if let c = Trainer.correctCount(spec.loss, y, t) { correct += c; counted += y.rows }
                progress?(BatchProgress(epoch: epoch, epochs: spec.epochs, batch: b, batches: batches, loss: l.double))
            }
            var report = EpochReport(epoch: epoch, trainLoss: lossSum / Double(order.count),
                                     trainAccuracy: counted > 0 ? Double(correct) / Double(counted) : nil,
                                     validationLoss: nil, validationAccuracy: nil,
                                     learningRate: spec.scheduler.lr(base: spec.optimizer.lr, step: Swift.max(0, globalStep - 1)),
                                     steps: globalStep)
            try synchronize()
            try checkWeightsFinite(after: epoch)
            if !valIdx.isEmpty {
                let (vl, va) = try evaluate(inputs.gather(batch: valIdx), targets.gather(batch: valIdx))
                report.validationLoss = vl
                report.validationAccuracy = va
            }
            history.epochs.append(report)
            epochEnd?(report)
            if let es = spec.earlyStopping {
                let monitored = report.validationLoss ?? report.trainLoss
                if monitored < best - es.minDelta {
                    best = monitored; sinceBest = 0; history.bestEpoch = epoch
                } else {
                    sinceBest += 1
                    if sinceBest >= es.patience { history.stoppedEarly = true; break }
                }
            }
        }
        return history
    }

    /// Stops a run whose weights stopped being numbers (a learning rate far too large, an
    /// exploding loss): nothing trained that way is worth saving, so it is an error, not a result.
    func checkWeightsFinite(after epoch: Int) throws(LoomError) {
        let p = network.params
        for i in 0..<p.count {
            guard let j = p.values[i].firstNonFinite else { continue }
            throw LoomError(.nonFinite, "training", "after epoch \(epoch + 1) parameter \(p.names[i]) holds \(p.values[i].data[j].double) at index \(j): training diverged (learning rate \(spec.optimizer.lr) too large?)")
        }
    }

    /// Mean loss and accuracy (when the loss defines one) over a data set, in batches.
    public func evaluate(_ inputs: Tensor<T>, _ targets: Tensor<T>) throws(LoomError) -> (loss: Double, accuracy: Double?) {
        var lossSum = 0.0, correct = 0, counted = 0
        var start = 0
        let bs = Swift.max(spec.batchSize, 1)
        while start < inputs.batch {
            let r = start..<Swift.min(inputs.batch, start + bs)
            let x = inputs.batchSlice(r), t = targets.batchSlice(r)
            let y: Tensor<T>
            if let acc = accelerator { y = try acc.forward(x) } else { y = try network.forward(x, context: context) }
            let (l, _) = try Loss.compute(spec.loss, output: y, target: t)
            lossSum += l.double * Double(r.count)
            if let c = Trainer.correctCount(spec.loss, y, t) { correct += c; counted += y.rows }
            start = r.upperBound
        }
        return (lossSum / Double(Swift.max(inputs.batch, 1)), counted > 0 ? Double(correct) / Double(counted) : nil)
    }

    /// Correct predictions: argmax vs class (cross-entropy), logit sign vs target ≥ 0.5 (bce).
    public static func correctCount(_ loss: LossKind, _ y: Tensor<T>, _ t: Tensor<T>) -> Int? {
        switch loss {
        case .mse: return nil
        case .crossEntropy:
            let pred = Loss.argmax(y)
            if t.count == y.rows && !(t.count == y.count && y.lastDim == 1) {
                return zip(pred, t.data).filter { Double($0.0) == $0.1.double }.count
            }
            return zip(pred, Loss.argmax(t)).filter { $0.0 == $0.1 }.count
        case .bce:
            var c = 0
            for i in 0..<y.count where (y.data[i] >= 0) == (t.data[i] >= 0.5) { c += 1 }
            return c
        }
    }
}
