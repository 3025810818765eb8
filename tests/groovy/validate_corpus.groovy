// The verdicts of groovy/src/io/pipelinelib/Args.groovy on a corpus, for
// tests/integration/test_validation_corpus.py. Usage: groovy validate_corpus.groovy LIBRARY_SRC IN OUT
// IN: JSON [[kind, value], ...]; OUT: JSON [problem-or-null, ...] in the same order.
import groovy.json.JsonOutput
import groovy.json.JsonSlurper

def loader = new GroovyClassLoader(this.class.classLoader)
loader.addClasspath(args[0])
def Args = loader.loadClass('io.pipelinelib.Args')
def corpus = new JsonSlurper().parse(new File(args[1]), 'UTF-8')
def verdicts = corpus.collect { item ->
    String kind = item[0]
    String value = item[1]
    switch (kind) {
        case 'job': return Args.problemWithJob(value)
        case 'service': return Args.problemWithService(value)
        case 'build': return Args.problemWithBuildNumber(value)
        case 'stack': return Args.problemWithPattern(value, Args.STACK_PATTERN, 'stack name')
        case 'selector': return Args.problemWithSelector(value)
        case 'duration': return Args.problemWithDuration(value)
        case 'override':
            try {
                Args.overrides([value])
                return null
            } catch (IllegalArgumentException e) {
                return e.message
            }
        default: throw new IllegalArgumentException("unknown kind ${kind}")
    }
}
new File(args[2]).write(JsonOutput.toJson(verdicts), 'UTF-8')
