import io.pipelinelib.Args

/**
 * verify-images: every image (and digest) of the imported manifest exists in ECR. Run it before
 * apply so a tag that was never pushed, or was overwritten, stops the deploy.
 *
 *   pipelinelibVerifyImages(importDir: 'import', region: 'ap-southeast-2')
 */
def call(Map args = [:]) {
    String importDir = args.importDir ?: 'import'
    String problem = Args.problemWithPattern(importDir, Args.RELATIVE_DIR_PATTERN, 'import directory')
    if (problem == null && args.region != null) {
        problem = Args.problemWithPattern(args.region, Args.REGION_PATTERN, 'region')
    }
    if (problem != null) {
        error("pipelinelibVerifyImages: ${problem}")
    }
    List<String> argv = ['verify-images', "--import-dir=${importDir}".toString()]
    if (args.region != null) {
        argv << "--region=${args.region}".toString()
    }
    pipelinelibCli(argv)
}
