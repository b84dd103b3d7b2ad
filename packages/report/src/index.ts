/**
 * @imslab/report: report.html, one self-contained page per run: the verdict
 * table, the network drawn with each link coloured by the protection seen on
 * it, a SIP ladder per call with the key-exchange steps marked, and the
 * per-flow evidence.
 */
export { writeReport, buildReport, loadScenario, readRunSummary } from './report.ts';
export { renderReport, type ScenarioData } from './render.ts';
export { extractLadders, ladderOf, readLinkSignalling, sipMessage, keyExchangeIn, analysisTlsMessages, LINKS, type Ladders, type LadderMessage, type KeyExchangeMark, type Namer } from './ladder.ts';
export { networkOf, namer, targetOf, addressesSeen, type NetworkView, type NetworkElement, type RecordedNetwork } from './network.ts';
export { PROTECTION_CLASSES, PROTECTION_STYLE, classOfPathLink, classOfVerdict, linkColours, weaker, hopColours, type ProtectionClass, type LinkColouring } from './protection.ts';
export { networkSvg, ladderSvg, arrowLabel, badgeText } from './draw.ts';
export { esc, anchor, cut } from './html.ts';
export { TlsConnection, readKeyLogs, parseKeyLog, hkdfExpandLabel, type KeyLog } from '@imslab/analysis';
export { runReportBench, type ReportBenchResult } from './bench.ts';
