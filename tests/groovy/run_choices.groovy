// Runs groovy/choices/upstream-builds.groovy once per case, the way Extensible Choice runs it:
// a fresh GroovyShell whose binding holds the inputs. args: SCRIPT CASES.json
// Each case: {serviceUrl, upstreamJob, limit, timeoutMs, fallback: null | [{number, displayName}]}
// with every string given as UTF-16 code units in hex (so any text crosses exactly).
// Prints, per case: CASE <TAB> i <TAB> elapsed ms, then CHOICE <TAB> i <TAB> hex lines, or
// ERROR <TAB> i <TAB> message; and FALLBACK <TAB> i <TAB> job <TAB> limit when the fallback ran.
import groovy.json.JsonSlurper

def decode = { String hex ->
    if (hex == null) return null
    StringBuilder sb = new StringBuilder()
    for (int i = 0; i < hex.length(); i += 4) {
        sb.append((char) Integer.parseInt(hex.substring(i, i + 4), 16))
    }
    sb.toString()
}
def encode = { String text -> text.collect { String.format('%04x', (int) (it as char)) }.join('') }

def cases = new JsonSlurper().parse(new File(args[1]), 'UTF-8')
cases.eachWithIndex { c, i ->
    def binding = new Binding()
    binding.setVariable('serviceUrl', decode(c.serviceUrl))
    binding.setVariable('upstreamJob', decode(c.upstreamJob))
    binding.setVariable('limit', c.limit)
    binding.setVariable('timeoutMs', c.timeoutMs)
    if (c.fallback != null) {
        binding.setVariable('fallbackBuilds', { String job, int limit ->
            println('FALLBACK\t' + i + '\t' + encode(job) + '\t' + limit)
            c.fallback.collect { [number: it.number, displayName: decode(it.displayName)] }
        })
    }
    // Parsed from text, as Extensible Choice does (class name Script1...); compiling is not timed.
    def script = new GroovyShell(binding).parse(new File(args[0]).getText('UTF-8'))
    long start = System.nanoTime()
    try {
        def result = script.run()
        println('CASE\t' + i + '\t' + ((System.nanoTime() - start) / 1000000 as long))
        result.each { println('CHOICE\t' + i + '\t' + encode(it as String)) }
    } catch (Throwable t) {
        println('CASE\t' + i + '\t' + ((System.nanoTime() - start) / 1000000 as long))
        println('ERROR\t' + i + '\t' + t.toString().replaceAll('[\\r\\n\\t]', ' '))
    }
}
