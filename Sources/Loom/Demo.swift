import LoomCore
import LoomNN

/// `loom demo` / `loom demo cnn`: train a digits classifier, save it, reload it, prove the
/// outputs identical. Both demos share one flow (`run`); only the network differs.
public enum Demo {
    /// Which built-in network a demo trains.
    public enum Kind: String, CaseIterable, Sendable {
        /// 64 → dense 64 tanh → dense 10.
        case mlp
        /// [1, 8, 8] → conv2d 5×5 → conv2d 3×3 → max_pool2d → flatten → dense 10.
        case cnn

        public var networkJSON: String { self == .mlp ? Demo.networkJSON : Demo.cnnNetworkJSON }
        public var defaultSavePath: String { self == .mlp ? "loom-demo-digits.json" : "loom-demo-cnn.json" }
    }

    public static let networkJSON = """
    {
      "format": "loom", "version": 1, "name": "digits-mlp", "dtype": "f32", "seed": 2026,
      "input": {"shape": [64]},
      "layers": [
        {"type": "dense", "units": 64, "activation": "tanh"},
        {"type": "dense", "units": 10}
      ],
      "training": {
        "loss": "cross_entropy",
        "optimizer": {"type": "adamw", "lr": 0.01, "weight_decay": 0},
        "scheduler": {"type": "cosine", "total_steps": 2460, "min_lr": 0.00001},
        "epochs": 30, "batch_size": 16, "validation_split": 0.1
      }
    }
    """

    /// The convolutional demo: each 8×8 image as one channel; 16 filters 5×5 then 32 filters 3×3,
    /// both padded to keep the 8×8 size; 2×2 max pooling to [32, 4, 4]; one dense layer to the 10
    /// logits (98.9% on the held-out split, a few seconds on 2 threads).
    public static let cnnNetworkJSON = """
    {
      "format": "loom", "version": 1, "name": "digits-cnn", "dtype": "f32", "seed": 2026,
      "input": {"shape": [1, 8, 8]},
      "layers": [
        {"type": "conv2d", "filters": 16, "kernel_size": 5, "padding": 2, "activation": "relu"},
        {"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": 1, "activation": "relu"},
        {"type": "max_pool2d", "kernel_size": 2},
        {"type": "flatten"},
        {"type": "dense", "units": 10}
      ],
      "training": {
        "loss": "cross_entropy",
        "optimizer": {"type": "adamw", "lr": 0.01, "weight_decay": 0.0001},
        "scheduler": {"type": "cosine", "total_steps": 1640, "min_lr": 0.00001},
        "epochs": 20, "batch_size": 16, "validation_split": 0.1
      }
    }
    """

    static func describe(_ spec: NetworkSpec) -> String {
        let input = spec.inputShape.count == 1 ? String(spec.inputShape[0]) : Tensor<Float>.describe(spec.inputShape)
        return input + " → " + spec.layers.map { l -> String in
            switch l {
            case .dense(let u, let a, _): return "dense \(u)" + (a == .linear ? "" : " \(a.name)")
            case .dropout(let r): return "dropout \(r)"
            case .conv(let c):
                return "\(c.typeName) \(c.filters)×" + c.kernel.map { String($0) }.joined(separator: "×")
                    + (c.activation == .linear ? "" : " \(c.activation.name)")
            case .pool(let p): return "\(p.typeName) " + p.kernel.map { String($0) }.joined(separator: "×")
            default: return l.typeName
            }
        }.joined(separator: " → ")
    }

    public struct Report {
        public var testAccuracy: Double
        public var testSamples: Int
        public var outputHash: String
        public var reloadedHash: String
        public var history: TrainingHistory
        /// The trained network in every dtype on the test set (`DTypeTable.order`).
        public var dtypes: [DTypeComparisonRow]
    }

    /// A stratified 80/20 split: within each class, a seeded permutation (stream
    /// "demo-test-split", class) puts the first fifth in the test set. Indices stay in data order.
    public static func split<T: LoomFloat>(_ x: Tensor<T>, _ y: Tensor<T>, seed: UInt64) -> (Tensor<T>, Tensor<T>, Tensor<T>, Tensor<T>) {
        var train = [Int](), test = [Int]()
        for cls in 0..<10 {
            let members = (0..<y.count).filter { Int(y.data[$0].double) == cls }
            let perm = Philox(seed: seed).permutation(members.count, stream: StreamID.of("demo-test-split", UInt64(cls)))
            let nTest = members.count / 5
            for (rank, p) in perm.enumerated() { (rank < nTest ? { test.append(members[p]) } : { train.append(members[p]) })() }
        }
        train.sort(); test.sort()
        return (x.gather(batch: train), y.gather(batch: train), x.gather(batch: test), y.gather(batch: test))
    }

    public static func run(context: ComputeContext, savePath: String, networkJSON: String = Demo.networkJSON,
                           log: (String) -> Void,
                           progress: ((BatchProgress) -> Void)? = nil,
                           epochEnd: ((EpochReport) -> Void)? = nil) throws(LoomError) -> Report {
        let spec = try IRDecoder.decode(json: networkJSON, source: "demo network")
        let net = try Network<Float>(spec)
        guard Tensor<Float>.count(of: net.inputShape) == 64, net.outputShape == [10], let training = spec.training else {
            throw LoomError(.invalidIR, "demo network", "must map 64 pixels ([64], [1, 8, 8], …) to [10] logits and have a training block")
        }
        // Each sample's 64 pixels (row-major) take the network's input shape, e.g. [1, 8, 8].
        let (flat, y) = Digits.load(as: Float.self)
        let x = flat.reshaped([flat.batch] + net.inputShape)
        let (xTrain, yTrain, xTest, yTest) = split(x, y, seed: spec.seed)
        log("digits: \(x.batch) samples of 8×8 pixels, \(xTrain.batch) for training (10% of them held out for validation), \(xTest.batch) for testing")
        log("network: \(describe(spec)) (\(net.params.scalarCount) parameters), \(training.optimizer.typeName), \(context.threads) thread(s)")
        let trainer = Trainer(network: net, spec: training, context: context)
        if context.takesWholeGemm {  // a GPU: train device-resident when every layer can
            if let why = trainer.attachResidentGPU() {
                log("device: matrix products on the GPU, other operations on the host (\(why.description))")
            } else {
                log("device: \(trainer.accelerator!.name)")
            }
        }
        let history = try trainer.fit(inputs: xTrain, targets: yTrain, progress: progress, epochEnd: epochEnd)
        let (_, acc) = try trainer.evaluate(xTest, yTest)
        let out = try net.forward(xTest, context: context)
        try FileIO.write(savePath, text: ModelCodec.encode(net, optimizer: trainer.optimizer))
        let reloaded = try AnyNetwork.load(path: savePath)
        guard case .f32(let net2, _) = reloaded else { throw LoomError(.invalidModel, savePath, "reloaded with another dtype") }
        let out2 = try net2.forward(xTest, context: context)
        let dtypes = try DTypeComparison.run(reloaded, inputs: xTest.converted(to: Double.self),
                                             labels: yTest.data.map { Int($0) }, dtypes: DTypeTable.order, context: context)
        return Report(testAccuracy: acc ?? 0, testSamples: xTest.batch, outputHash: out.bitHash.hex,
                      reloadedHash: out2.bitHash.hex, history: history, dtypes: dtypes)
    }
}
