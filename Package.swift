// swift-tools-version:6.0
import PackageDescription

let release: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "FinGPT",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fingpt", targets: ["fingpt"]),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .target(name: "Tensor", dependencies: ["CBLAS"], swiftSettings: release),
        .target(name: "CVectorKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "NN", dependencies: ["Tensor", "CVectorKernels"], swiftSettings: release),
        .target(name: "Optim", dependencies: ["Tensor"], swiftSettings: release),
        .target(name: "CQuantKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Quantization", dependencies: ["Tensor", "CQuantKernels"], swiftSettings: release),
        .target(name: "IO", dependencies: ["Tensor", "Quantization"], swiftSettings: release),
        .target(name: "Tokenizers", dependencies: ["IO"], swiftSettings: release),
        .target(name: "Models", dependencies: ["Tensor", "NN", "IO", "Quantization"], swiftSettings: release),
        .target(name: "Data", dependencies: ["Tensor", "IO", "Tokenizers"], swiftSettings: release),
        .target(name: "Training", dependencies: ["Tensor", "NN", "Optim", "Models", "Data", "IO", "Tokenizers", "Quantization", "Distributed"], swiftSettings: release),
        .target(name: "Inference", dependencies: ["Models", "Tokenizers", "Training", "IO", "Quantization"], swiftSettings: release),
        .target(name: "Evaluation", dependencies: ["Models", "Tensor", "Tokenizers"], swiftSettings: release),
        .target(name: "Distributed", dependencies: ["CMPI", "Tensor"], swiftSettings: release),
        .executableTarget(name: "fingpt-mpi-selftest", dependencies: ["Distributed", "CMPI", "Training", "Models", "Optim", "Tensor"], swiftSettings: release),
        .executableTarget(name: "fingpt", dependencies: ["Tensor", "NN", "Models", "Optim", "IO", "Quantization", "Tokenizers", "Data", "Training", "Evaluation", "Inference", "Distributed"],
                          swiftSettings: release),
        .target(name: "TestSupport", dependencies: ["Tensor"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor", "TestSupport"]),
        .testTarget(name: "OptimTests", dependencies: ["Optim", "Tensor", "TestSupport"]),
        .testTarget(name: "IOTests", dependencies: ["IO", "Quantization", "Tensor", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "QuantizationTests", dependencies: ["Quantization", "CQuantKernels", "Tensor", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "IO", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "NN", "Tensor", "IO", "Optim", "Training", "Quantization", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DataTests", dependencies: ["Data", "Tokenizers", "IO", "Tensor", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Inference", "Models", "NN", "Optim", "Data", "Tokenizers", "Quantization", "Tensor", "TestSupport"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "Models", "Tokenizers", "IO", "Quantization", "Evaluation", "Training", "NN", "Tensor", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Models", "Tensor", "Tokenizers", "Inference", "TestSupport"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "Training", "Models", "Tensor", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
